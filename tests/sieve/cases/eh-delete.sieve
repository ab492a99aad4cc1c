require ["editheader", "fileinto", "variables"];
deleteheader "x-priority";
if exists "x-priority" { fileinto "Still"; } else { fileinto "Gone"; }
