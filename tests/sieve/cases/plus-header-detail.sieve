# message: plus.eml
require ["fileinto", "subaddress"];
if address :detail :is "to" "orders" { fileinto "Orders"; }
