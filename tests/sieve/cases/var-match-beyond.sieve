require ["variables", "fileinto"];
if header :matches "subject" "*" { fileinto "x${5}y"; }
