require ["editheader", "fileinto", "variables", "index"];
addheader :last "Subject" "last";
if header :index 2 :matches "subject" "*" { fileinto "${1}"; }
