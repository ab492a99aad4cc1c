require ["imap4flags", "fileinto"];
addflag ["foo", "FOO", "foo"];
