if false { discard; }
