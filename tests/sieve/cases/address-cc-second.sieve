if address :localpart :is "cc" "dave" { discard; }
