require ["reject", "copy"];
redirect :copy "x@example.net";
reject "no";
