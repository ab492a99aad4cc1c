# message: plus.eml
require "fileinto";
if header :matches "subject" ["*order*", "*shipped*"] { fileinto "Shopping"; }
