require ["editheader", "fileinto", "variables"];
deleteheader "x-nothing";
