require "include";
return;
discard;
