require ["variables", "fileinto"];
set :lower "f" "MiXeD";
fileinto "${f}";
