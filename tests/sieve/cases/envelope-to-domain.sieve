require "envelope";
if envelope :domain :is "to" "example.com" { redirect "d@example.net"; }
