if header :matches "subject" "Hello*" { discard; }
