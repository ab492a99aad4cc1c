require "include";
include :global "g1";
