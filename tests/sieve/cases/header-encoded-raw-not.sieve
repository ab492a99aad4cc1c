# message: encoded.eml
if header :contains "subject" "=?ISO" { discard; } else { keep; }
