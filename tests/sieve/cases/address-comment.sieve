# message: addresses.eml
if address :is "cc" "zed@example.org" { discard; }
