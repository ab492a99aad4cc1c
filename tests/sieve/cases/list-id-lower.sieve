# message: list.eml
require ["fileinto", "variables"];
if header :matches "list-id" "*<*>*" {
  set :lower "list" "${2}";
  fileinto "Lists.${list}";
}
