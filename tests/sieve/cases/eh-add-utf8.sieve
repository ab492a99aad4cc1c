require ["editheader", "fileinto", "variables"];
addheader "X-A" "Grüße";
if header :matches "x-a" "*" { fileinto "${1}"; }
