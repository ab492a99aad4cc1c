require ["fileinto", "variables", "imap4flags"];
if header :contains "X-Spam-Flag" "YES" { fileinto "Junk"; stop; }
if exists "list-id" { fileinto "Lists"; stop; }
if address :domain :is "from" "example.org" { addflag "$work"; }
keep;
