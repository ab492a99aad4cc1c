require ["imap4flags", "fileinto"];
addflag "\\Seen";
setflag "\\Answered";
keep;
