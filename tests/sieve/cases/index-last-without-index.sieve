# message: addresses.eml
require ["index", "fileinto", "variables"];
if header :last :is "x-custom" "x" { keep; }
