redirect "carol@example.net";
redirect "carol@example.net";
