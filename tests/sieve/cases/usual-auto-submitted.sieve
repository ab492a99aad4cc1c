# message: bounce.eml
require "fileinto";
if header :is "auto-submitted" "auto-replied" { fileinto "Auto"; }
