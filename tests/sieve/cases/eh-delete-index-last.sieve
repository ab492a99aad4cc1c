# message: addresses.eml
require ["editheader", "fileinto", "variables", "index"];
deleteheader :index 1 :last "x-custom";
if header :index 1 :last :matches "x-custom" "*" { fileinto "${1}"; }
