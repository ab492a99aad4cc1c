require ["include", "variables", "fileinto"];
global "folder";
include "setg";
fileinto "${folder}";
