require ["comparator-i;octet", "comparator-i;ascii-casemap"];
if header :comparator "i;ascii-casemap" :is "subject" "hello THERE" { discard; }
