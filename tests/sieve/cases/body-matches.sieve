require ["body", "fileinto"];
if body :matches "*meeting on Friday*" { fileinto "Meeting"; }
