if header :contains "subject" "there" { discard; }
