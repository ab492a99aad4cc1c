# message: list.eml
require "fileinto";
if header :is "precedence" ["list", "bulk"] { fileinto "Bulk"; }
