redirect "abc@example.net;
