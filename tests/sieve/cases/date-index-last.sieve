require ["date", "index", "fileinto", "variables"];
if date :index 1 :last :originalzone :matches "received" "time" "*" { fileinto "${1}"; }
