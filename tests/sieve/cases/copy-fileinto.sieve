require ["copy", "fileinto"];
fileinto :copy "Backup";
