require "include";
include :personal :global "p1";
