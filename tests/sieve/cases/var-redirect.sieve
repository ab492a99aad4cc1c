require ["variables", "fileinto"];
set "to" "carol@example.net";
redirect "${to}";
