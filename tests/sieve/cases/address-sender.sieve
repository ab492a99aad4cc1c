# message: addresses.eml
if address :is "sender" "assistant@example.com" { discard; }
