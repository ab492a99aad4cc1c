require ["body", "fileinto"];
if body :raw :contains "Alice" { fileinto "Raw"; }
