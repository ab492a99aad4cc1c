if header :contains "from" "Alice \"E" { discard; } else { keep; }
