if header :comparator "i;foo" :is "subject" "x" { discard; }
