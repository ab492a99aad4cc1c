# message: list.eml
require "vacation";
if anyof (exists "list-id", header :is "precedence" ["bulk", "list", "junk"]) { keep; } else { vacation :days 7 "Away."; }
