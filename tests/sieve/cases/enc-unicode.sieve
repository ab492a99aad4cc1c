require ["encoded-character", "fileinto"];
fileinto "Gesch${unicode:e4}ftlich";
