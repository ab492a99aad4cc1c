if anyof () { discard; }
