require ["duplicate", "fileinto"];
if duplicate :header "subject" { discard; }
if duplicate :uniqueid "a" { discard; }
