require "reject";
reject text:
..leading dot kept as one
second line
.
;
