require ["include", "fileinto"];
include "stopper";
fileinto "after";
