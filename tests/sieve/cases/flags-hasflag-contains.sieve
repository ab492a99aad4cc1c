require ["imap4flags", "fileinto"];
addflag "$label1";
if hasflag :contains "label" { fileinto "L"; }
