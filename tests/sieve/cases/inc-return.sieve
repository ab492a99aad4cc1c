require "include";
include "ret";
keep;
