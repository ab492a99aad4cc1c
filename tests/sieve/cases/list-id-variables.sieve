# message: list.eml
require ["fileinto", "variables"];
if header :matches "List-Id" "*<*.lists.example.org>" {
  fileinto "Lists.${2}";
  stop;
}
