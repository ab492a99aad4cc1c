# message: spam.eml
require ["editheader", "fileinto", "variables"];
if header :contains "x-spam-flag" "YES" {
  deleteheader "x-spam-flag";
  addheader :last "X-Spam-Moved" "yes";
}
if exists "x-spam-moved" { fileinto "Junk"; }
