require ["include", "variables", "fileinto"];
include "setg";
fileinto "x${folder}";
