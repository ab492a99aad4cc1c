# message: addresses.eml
if header :is "x-custom" "second" { discard; }
