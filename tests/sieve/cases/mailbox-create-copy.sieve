require ["mailbox", "fileinto", "copy"];
fileinto :create :copy "New";
