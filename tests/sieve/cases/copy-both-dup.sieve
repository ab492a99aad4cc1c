require ["copy", "fileinto"];
fileinto :copy "A";
fileinto "A";
