require ["fileinto", "variables"];
if address :domain :matches "from" "*" { fileinto "Senders.${1}"; }
