require ["date", "fileinto", "variables"];
if date :originalzone :is "date" "weekday" "2" { fileinto "Tuesday"; }
