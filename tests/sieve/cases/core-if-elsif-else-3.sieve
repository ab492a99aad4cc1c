if false { redirect "x@example.net"; }
elsif false { discard; }
else { redirect "y@example.net"; }
