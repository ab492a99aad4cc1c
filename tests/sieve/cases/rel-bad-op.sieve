require ["relational", "comparator-i;ascii-numeric", "fileinto"];
if header :value "xx" "subject" "a" { discard; }
