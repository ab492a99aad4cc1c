require ["date", "fileinto"];
if currentdate :zone "+0000" :matches "year" "2*" { fileinto "ThisMillennium"; }
