require "include";
include "nested";
