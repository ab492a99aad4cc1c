if header "subject" :contains "x" { discard; }
