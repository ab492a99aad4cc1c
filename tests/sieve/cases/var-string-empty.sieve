require ["variables", "fileinto"];
if string :is "${undefined}" "" { fileinto "empty"; }
