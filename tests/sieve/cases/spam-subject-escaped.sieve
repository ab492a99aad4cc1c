# message: spam.eml
require ["fileinto"];
if header :matches "Subject" "\\[SPAM\\]*" { fileinto "Spam"; }
