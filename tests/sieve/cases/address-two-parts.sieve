if address :domain :localpart "from" "x" { discard; }
