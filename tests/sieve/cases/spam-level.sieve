# message: spam.eml
require "fileinto";
if header :contains "X-Spam-Level" "*****" { fileinto "Junk"; }
