if header :comparator "i;octet" :is "subject" "HELLO THERE" { discard; } else { redirect "o@example.net"; }
