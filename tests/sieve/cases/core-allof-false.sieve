if allof (true, false) { discard; }
