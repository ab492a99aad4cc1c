require "include";
include "p1";
