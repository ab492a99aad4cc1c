require ["variables", "fileinto"];
set "a" "value";
if string :is "${a}" "value" { fileinto "yes"; }
