require "include";
include "p1";
include "p1";
