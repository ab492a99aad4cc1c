include "p1";
