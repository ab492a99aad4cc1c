require ["relational", "comparator-i;ascii-numeric", "fileinto"];
if header :value "le" :comparator "i;octet" "subject" "Hello" { fileinto "Le"; }
