require ["editheader", "fileinto", "variables"];
addheader "Auto-Submitted" "x";
if header :is "auto-submitted" "x" { fileinto "Added"; }
