require ["duplicate", "fileinto"];
if duplicate :header "x-none" { fileinto "Dups"; }
