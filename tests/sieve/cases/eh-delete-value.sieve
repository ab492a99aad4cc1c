# message: addresses.eml
require ["editheader", "fileinto", "variables"];
deleteheader :is "x-custom" "second";
if header :is "x-custom" "second" { fileinto "Still"; } elsif header :is "x-custom" "third" { fileinto "Others"; }
