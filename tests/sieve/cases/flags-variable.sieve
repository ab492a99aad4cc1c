require ["imap4flags", "variables", "fileinto"];
addflag "myflags" "\\Seen";
addflag "myflags" "x";
if hasflag "myflags" "x" { fileinto :flags "${myflags}" "V"; }
