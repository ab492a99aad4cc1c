require "envelope";
if envelope :localpart :contains "from" "ali" { discard; }
