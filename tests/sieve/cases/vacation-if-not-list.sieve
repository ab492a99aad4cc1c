# message: list.eml
require "vacation";
if not exists "list-id" { vacation "Away."; }
