# message: addresses.eml
require ["editheader", "fileinto", "relational"];
deleteheader :matches "x-custom" "*ir*";
if header :count "eq" "x-custom" "1" { fileinto "One"; }
