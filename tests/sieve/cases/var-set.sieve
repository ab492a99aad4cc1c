require ["variables", "fileinto"];
set "folder" "Archive";
fileinto "${folder}";
