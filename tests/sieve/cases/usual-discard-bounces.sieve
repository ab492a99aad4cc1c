# message: bounce.eml
if header :contains "from" "MAILER-DAEMON" { discard; stop; }
