require ["date", "fileinto", "variables"];
if allof (date :originalzone :is "date" "month" "12", date :originalzone :is "date" "day" "01") { fileinto "Dec1"; }
