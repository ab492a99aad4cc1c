# message: addresses.eml
if address :domain :is "resent-from" "example.net" { discard; }
