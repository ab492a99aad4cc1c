# message: bounce.eml
require ["editheader", "fileinto", "variables"];
deleteheader "auto-submitted";
if exists "auto-submitted" { fileinto "Still"; }
