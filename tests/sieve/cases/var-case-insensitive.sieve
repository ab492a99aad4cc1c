require ["variables", "fileinto"];
set "Folder" "Archive";
fileinto "${FOLDER}";
