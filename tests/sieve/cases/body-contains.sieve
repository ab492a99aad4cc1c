require ["body", "fileinto"];
if body :contains "invoice" { fileinto "Invoices"; }
