require ["variables", "include"];
global "folder";
set "folder" "G";
