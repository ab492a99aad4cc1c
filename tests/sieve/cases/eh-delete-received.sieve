require ["editheader", "fileinto", "variables"];
deleteheader "received";
if exists "received" { fileinto "Still"; }
