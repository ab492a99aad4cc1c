require ["mailbox", "fileinto"];
fileinto :create "New.Folder";
