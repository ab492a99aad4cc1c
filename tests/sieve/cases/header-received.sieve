if header :contains "received" "client.example.org" { discard; }
