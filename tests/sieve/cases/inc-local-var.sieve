require ["include", "variables", "fileinto"];
include "setlocal";
fileinto "x${local}";
