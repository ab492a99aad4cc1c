require ["editheader", "fileinto", "variables"];
addheader "Subject" "first";
if header :matches "subject" "*" { fileinto "${1}"; }
