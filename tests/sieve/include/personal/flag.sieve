require ["include", "imap4flags"];
addflag "\\Seen";
