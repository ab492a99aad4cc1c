# message: addresses.eml
require ["relational", "comparator-i;ascii-numeric", "fileinto"];
if header :count "eq" "x-custom" "3" { fileinto "Three"; }
