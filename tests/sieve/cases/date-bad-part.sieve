require ["date", "fileinto", "variables"];
if date :is "date" "fortnight" "1" { fileinto "x"; }
