require ["date", "fileinto", "variables"];
if date :originalzone :matches "date" "date" "*" { set "d" "${1}"; }
if date :originalzone :matches "date" "time" "*" { fileinto "${d}_${1}"; }
