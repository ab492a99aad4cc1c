keep "x";
