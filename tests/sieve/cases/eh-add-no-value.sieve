require ["editheader", "fileinto", "variables"];
addheader "X-A";
