# message: addresses.eml
require ["date", "fileinto", "variables"];
if date :zone "+0200" :matches "date" "iso8601" "*" { fileinto "${1}"; }
