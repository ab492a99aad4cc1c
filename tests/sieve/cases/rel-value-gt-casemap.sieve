require ["relational", "comparator-i;ascii-numeric", "fileinto"];
if header :value "gt" "subject" "A" { fileinto "After"; }
