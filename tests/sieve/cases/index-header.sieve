# message: addresses.eml
require ["index", "fileinto", "variables"];
if header :index 2 :matches "x-custom" "*" { fileinto "${1}"; }
