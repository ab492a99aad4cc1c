require "envelope";
if envelope :matches "to" "bob@*" { discard; }
