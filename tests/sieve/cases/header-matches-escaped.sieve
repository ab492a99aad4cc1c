if header :matches "subject" "Hello\\*" { discard; } else { keep; }
