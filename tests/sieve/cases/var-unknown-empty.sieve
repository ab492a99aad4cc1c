require ["variables", "fileinto"];
fileinto "A${nothing}B";
