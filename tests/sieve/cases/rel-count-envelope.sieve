require ["relational", "comparator-i;ascii-numeric", "fileinto"];
require "envelope";
if envelope :count "eq" :comparator "i;ascii-numeric" "to" "1" { fileinto "One"; }
