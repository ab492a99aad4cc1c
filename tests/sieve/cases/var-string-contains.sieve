require ["variables", "fileinto"];
set "a" "some value";
if string :contains "${a}" "val" { fileinto "yes"; }
