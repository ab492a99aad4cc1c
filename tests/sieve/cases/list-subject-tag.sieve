# message: list.eml
require ["fileinto", "variables"];
if header :matches "subject" "[*] *" { fileinto "Lists.${1}"; }
