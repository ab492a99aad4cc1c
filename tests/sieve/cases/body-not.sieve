require ["body", "fileinto"];
if body :contains "zebra" { fileinto "Z"; }
