# message: encoded.eml
if header :contains "from" "Jürgen" { discard; }
