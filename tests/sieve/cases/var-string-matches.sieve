require ["variables", "fileinto"];
set "a" "user@example.org";
if string :matches "${a}" "*@*" { fileinto "${2}"; }
