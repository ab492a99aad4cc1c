# message: spam.eml
require "include";
include "nested";
