# message: plus.eml
# to: bob+orders@example.com
require ["fileinto", "envelope", "subaddress", "variables"];
if envelope :matches :detail "to" "*" {
  set :lower :upperfirst "folder" "${1}";
  fileinto "${folder}";
}
