# message: multipart.eml
require ["body", "fileinto"];
if body :content "text/plain" :contains "accountant" { fileinto "Sig"; }
