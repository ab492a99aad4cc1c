# message: encoded.eml
require ["body", "fileinto"];
if body :text :contains "Käse" { fileinto "QP"; }
