require "vacation";
vacation :days 100 "I am away.";
