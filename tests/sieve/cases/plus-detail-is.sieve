# message: plus.eml
# to: bob+orders@example.com
require ["fileinto", "envelope", "subaddress"];
if envelope :detail :is "to" "orders" { fileinto "Orders"; }
