if header :contains "x-missing" "" { discard; } else { keep; }
