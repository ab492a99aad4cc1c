if header :value "gt" "subject" "a" { discard; }
