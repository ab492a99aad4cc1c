# message: addresses.eml
if address :is "cc" "ben@example.com" { discard; }
