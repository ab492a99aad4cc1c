if address :domain :is ["to", "cc"] "example.net" { discard; }
