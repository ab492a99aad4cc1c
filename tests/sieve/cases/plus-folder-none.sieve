# to: bob@example.com
require ["fileinto", "envelope", "subaddress", "variables"];
if envelope :matches :detail "to" "*" {
  fileinto "${1}";
}
