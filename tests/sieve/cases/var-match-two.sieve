require ["variables", "fileinto"];
if header :matches "from" "* <*@*>" { fileinto "${1}.${3}"; }
