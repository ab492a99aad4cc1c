require "envelope";
if envelope :detail "to" "x" { discard; }
