if exists ["x-priority", "x-missing"] { discard; } else { redirect "m@example.net"; }
