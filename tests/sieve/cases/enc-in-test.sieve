require ["encoded-character", "fileinto"];
if header :contains "subject" "${hex:48 65}llo" { fileinto "H"; }
