if address :domain :comparator "i;octet" :is "cc" "example.net" { redirect "x@example.net"; }
