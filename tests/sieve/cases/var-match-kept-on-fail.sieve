require ["variables", "fileinto"];
if header :matches "subject" "Hello *" { set "a" "1"; }
if header :matches "subject" "nomatch*" { set "a" "2"; }
fileinto "${1}";
