require ["editheader", "fileinto", "variables"];
if header :matches "subject" "*" {
  deleteheader "subject";
  addheader "Subject" "[tagged] ${1}";
}
if header :matches "subject" "*" { fileinto "${1}"; }
