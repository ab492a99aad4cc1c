# message: multipart.eml
require ["body", "fileinto"];
if body :text :contains "quarterly report" { fileinto "Reports"; }
