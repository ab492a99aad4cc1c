# message: spam.eml
require ["fileinto", "imap4flags"];
if header :is "X-Spam-Flag" "YES" { fileinto :flags "\\Seen" "Junk"; }
