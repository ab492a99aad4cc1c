# message: addresses.eml
require ["index", "fileinto", "variables"];
if address :index 1 :localpart :is "received" "x" { keep; } elsif address :index 2 :all :is "x-custom" "second" { fileinto "Second"; }
