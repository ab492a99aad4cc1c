require ["variables", "fileinto"];
set :lowerfirst "f" "MIXED";
fileinto "${f}";
