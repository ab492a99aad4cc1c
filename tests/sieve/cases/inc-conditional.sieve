require ["include", "fileinto"];
if header :contains "subject" "hello" { include :global "g1"; } else { fileinto "Other"; }
