# message: addresses.eml
if address :contains "to" "@" { discard; } else { keep; }
