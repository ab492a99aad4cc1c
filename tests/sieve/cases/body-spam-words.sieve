# message: spam.eml
require ["body", "fileinto"];
if body :text :contains ["unsubscribe", "cheap"] { fileinto "Junk"; }
