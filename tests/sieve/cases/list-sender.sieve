# message: list.eml
require "fileinto";
if address :localpart :matches "sender" "*-bounces" { fileinto "Lists"; }
