require ["variables", "fileinto"];
set "x" "1";
fileinto "a$b${x}${";
