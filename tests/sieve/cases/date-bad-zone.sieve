require ["date", "fileinto", "variables"];
if date :zone "CET" :is "date" "year" "2026" { fileinto "x"; }
