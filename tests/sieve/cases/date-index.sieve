require ["date", "index", "fileinto", "variables"];
if date :index 2 :originalzone :matches "received" "time" "*" { fileinto "${1}"; }
