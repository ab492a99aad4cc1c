require ["reject", "vacation"];
reject "a";
vacation "b";
