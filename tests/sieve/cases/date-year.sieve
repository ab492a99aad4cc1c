require ["date", "fileinto", "variables"];
if date :originalzone :is "date" "year" "2026" { fileinto "Y2026"; }
