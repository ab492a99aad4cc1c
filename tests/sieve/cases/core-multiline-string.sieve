if header :contains "subject" text:
Hello
.
{ discard; }
