require ["include", "fileinto"];
include :once "p1";
include :once "p1";
fileinto "after";
