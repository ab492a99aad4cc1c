if anyof (false, false) { discard; }
