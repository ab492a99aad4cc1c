if string :is "a" "a" { discard; }
