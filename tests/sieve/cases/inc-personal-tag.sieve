require "include";
include :personal "p1";
