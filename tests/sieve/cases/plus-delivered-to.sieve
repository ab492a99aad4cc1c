# message: addresses.eml
require ["fileinto", "subaddress"];
if address :detail :is "delivered-to" "work" { fileinto "Work"; }
