if header :matches "subject" "there" { discard; } else { keep; }
