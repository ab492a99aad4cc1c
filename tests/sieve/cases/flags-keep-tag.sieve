require ["imap4flags", "fileinto"];
keep :flags "\\Deleted";
