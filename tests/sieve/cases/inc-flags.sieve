require ["include", "imap4flags"];
include "flag";
