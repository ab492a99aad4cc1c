if false { redirect "x@example.net"; }
elsif header :contains "subject" "hello" { discard; }
else { keep; }
