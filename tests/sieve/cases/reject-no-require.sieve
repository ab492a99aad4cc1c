reject "x";
