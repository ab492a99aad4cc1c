require ["variables", "fileinto"];
set "h" "subject";
if header :contains "${h}" "hello" { fileinto "found"; }
