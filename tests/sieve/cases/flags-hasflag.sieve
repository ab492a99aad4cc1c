require ["imap4flags", "fileinto"];
addflag "\\Seen";
if hasflag "\\seen" { fileinto "Seen"; }
