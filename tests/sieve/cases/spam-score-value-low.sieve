# message: spam.eml
require ["fileinto", "relational", "comparator-i;ascii-numeric"];
if header :value "ge" :comparator "i;ascii-numeric" "X-Rspamd-Score" "15" { fileinto "Junk"; }
