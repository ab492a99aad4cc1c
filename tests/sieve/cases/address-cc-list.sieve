if address :is "cc" "dave@example.net" { discard; }
