require ["imap4flags", "fileinto"];
addflag "\\Seen \\Flagged $Label1";
