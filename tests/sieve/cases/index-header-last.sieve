# message: addresses.eml
require ["index", "fileinto", "variables"];
if header :index 1 :last :matches "x-custom" "*" { fileinto "${1}"; }
