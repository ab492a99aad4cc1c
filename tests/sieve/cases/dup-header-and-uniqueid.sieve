require ["duplicate", "fileinto"];
if duplicate :header "subject" :uniqueid "x" { discard; }
