require ["duplicate", "fileinto"];
if duplicate { discard; }
if duplicate { discard; }
