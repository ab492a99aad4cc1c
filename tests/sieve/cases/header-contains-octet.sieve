if header :contains :comparator "i;octet" "subject" "THERE" { discard; } else { keep; }
