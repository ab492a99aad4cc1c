# message: spam.eml
require "reject";
if header :contains "X-Spam-Flag" "YES" { reject "Spam is not welcome here."; }
