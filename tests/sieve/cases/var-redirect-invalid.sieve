require ["variables", "fileinto"];
set "to" "not an address";
redirect "${to}";
