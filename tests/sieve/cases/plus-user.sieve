# message: plus.eml
# to: bob+orders@example.com
require ["envelope", "subaddress"];
if envelope :user :is "to" "bob" { discard; }
