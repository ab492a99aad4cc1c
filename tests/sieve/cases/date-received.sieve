require ["date", "fileinto", "variables"];
if date :originalzone :matches "received" "iso8601" "*" { fileinto "${1}"; }
