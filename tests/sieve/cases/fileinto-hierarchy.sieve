require "fileinto";
fileinto "Lists.foo.users";
