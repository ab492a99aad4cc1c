require ["variables", "fileinto"];
set :quotewildcard "q" "a*b?c\\d";
if string :is "${q}" "a\\*b\\?c\\\\d" { fileinto "quoted"; }
