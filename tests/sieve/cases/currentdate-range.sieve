require ["date", "relational", "fileinto"];
if allof (currentdate :value "ge" "date" "2000-01-01", currentdate :value "lt" "date" "2200-01-01") { fileinto "Now"; }
