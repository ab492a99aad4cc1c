if size :over :under 100 { discard; }
