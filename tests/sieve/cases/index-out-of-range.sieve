# message: addresses.eml
require ["index", "fileinto", "variables"];
if header :index 9 :matches "x-custom" "*" { fileinto "${1}"; } else { fileinto "none"; }
