require ["duplicate", "fileinto"];
if duplicate :uniqueid "abc" :handle "h" :seconds 60 :last { discard; }
