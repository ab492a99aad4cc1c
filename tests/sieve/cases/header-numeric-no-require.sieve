if header :comparator "i;ascii-numeric" :is "x-priority" "3" { discard; }
