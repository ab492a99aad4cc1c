if size :over 1K { discard; } else { redirect "small@example.net"; }
