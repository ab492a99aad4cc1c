require ["variables", "fileinto"];
if header :matches "subject" "H?llo *" { fileinto "${1}-${2}"; }
