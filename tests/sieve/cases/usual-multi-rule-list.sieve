# message: list.eml
require ["fileinto", "variables", "imap4flags"];
if header :contains "X-Spam-Flag" "YES" { fileinto "Junk"; stop; }
if exists "list-id" { fileinto "Lists"; stop; }
keep;
