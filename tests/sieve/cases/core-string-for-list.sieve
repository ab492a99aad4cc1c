if exists "subject" { discard; }
