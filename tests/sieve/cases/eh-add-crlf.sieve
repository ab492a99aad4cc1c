require ["editheader", "fileinto", "variables"];
addheader "X-A" "a\r\nb";
