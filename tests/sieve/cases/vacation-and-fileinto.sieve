require ["vacation", "fileinto"];
vacation "Away.";
fileinto "Later";
