require "envelope";
if envelope :is "x-foo" "a" { discard; }
