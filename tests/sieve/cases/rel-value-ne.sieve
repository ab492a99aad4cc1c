require ["relational", "comparator-i;ascii-numeric", "fileinto"];
if header :value "ne" "subject" "Hello there" { fileinto "Other"; }
