require ["variables", "fileinto"];
if header :matches "subject" "Hello *" { }
if header :is "subject" "Hello there" { fileinto "${1}"; }
