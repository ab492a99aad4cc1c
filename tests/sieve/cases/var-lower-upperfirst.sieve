require ["variables", "fileinto"];
set :lower :upperfirst "f" "mIXED";
fileinto "${f}";
