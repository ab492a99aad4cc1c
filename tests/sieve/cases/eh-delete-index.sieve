# message: addresses.eml
require ["editheader", "fileinto", "variables"];
deleteheader :index 1 "x-custom";
if header :matches "x-custom" "*" { fileinto "${1}"; }
