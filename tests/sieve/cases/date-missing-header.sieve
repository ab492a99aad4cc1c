require ["date", "fileinto", "variables"];
if date :originalzone :matches "x-none" "year" "*" { fileinto "has"; } else { fileinto "none"; }
