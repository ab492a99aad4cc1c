# message: spam.eml
require ["imap4flags", "fileinto"];
if header :is "X-Spam-Flag" "YES" { setflag "\\Seen"; fileinto "Junk"; }
