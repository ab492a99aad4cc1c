require "include";
include "p1";
include :global "spam";
