require ["variables", "fileinto"];
if address :localpart :matches "from" "*" { set "who" "${1}"; }
fileinto "From.${who}";
