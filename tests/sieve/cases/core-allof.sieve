if allof (header :contains "subject" "hello", address :is "from" "alice@example.org") { discard; }
