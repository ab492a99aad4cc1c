# message: addresses.eml
if address :is "from" "john.smith@sub.example.com" { discard; }
