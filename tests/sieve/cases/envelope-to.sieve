require "envelope";
if envelope :is "to" "bob@example.com" { discard; }
