if anyof (false, header :contains "subject" "hello") { discard; }
