# message: multipart.eml
require ["body", "fileinto"];
if body :content "application/pdf" :contains "secret pdf" { fileinto "Pdf"; }
