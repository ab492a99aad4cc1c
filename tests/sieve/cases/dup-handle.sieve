# message: list.eml
require ["duplicate", "fileinto"];
if duplicate :handle "list" :header "list-id" { fileinto "x"; }
