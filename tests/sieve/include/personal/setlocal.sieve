require ["variables", "include"];
set "local" "L";
set "global.shared" "S";
