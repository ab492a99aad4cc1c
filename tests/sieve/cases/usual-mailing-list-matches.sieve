# message: list.eml
require ["fileinto", "variables", "mailbox"];
if header :matches "list-id" "*<*.*.*>" {
  fileinto :create "INBOX.lists.${2}";
}
