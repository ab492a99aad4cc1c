# message: list.eml
require ["fileinto", "variables", "mailbox"];
if exists "list-id" {
  if header :regex "list-id" "<([a-z_0-9-]+)[.@]" { fileinto "x"; }
}
