# message: addresses.eml
require ["date", "fileinto", "variables"];
if date :originalzone :matches "date" "iso8601" "*" { fileinto "${1}"; }
