require ["variables", "fileinto"];
set :upperfirst "f" "mixed";
fileinto "${f}";
