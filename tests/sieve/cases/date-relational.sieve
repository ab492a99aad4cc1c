require ["date", "relational", "fileinto"];
if date :originalzone :value "ge" "date" "date" "2026-06-01" { fileinto "Recent"; }
