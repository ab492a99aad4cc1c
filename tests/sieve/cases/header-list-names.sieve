if header :contains ["x-missing", "subject"] ["nope", "there"] { discard; }
