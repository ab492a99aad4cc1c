# message: encoded.eml
if header :is "subject" "Grüße aus München and more" { discard; } else { keep; }
