# message: spam.eml
# from: promo@spammer.example
require "fileinto";
if header :contains "X-Spam-Flag" "YES" {
  fileinto "Junk";
  stop;
}
