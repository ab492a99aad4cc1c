if header :matches "subject" "Hell? there" { discard; }
