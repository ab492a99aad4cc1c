require ["editheader", "fileinto", "variables"];
addheader "X-Sieved" "yes";
if header :is "x-sieved" "yes" { fileinto "Added"; }
