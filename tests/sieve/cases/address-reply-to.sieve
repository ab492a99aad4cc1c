# message: addresses.eml
if address :localpart :is "reply-to" "replies+sales" { discard; }
