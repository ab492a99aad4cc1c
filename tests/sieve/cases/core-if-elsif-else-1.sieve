if header :is "subject" "Hello there" { redirect "x@example.net"; }
elsif true { discard; }
else { keep; }
