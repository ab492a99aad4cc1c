require "fileinto";
if address :is "from" ["alice@example.org", "erin@example.edu"] { keep; stop; }
fileinto "Unknown";
