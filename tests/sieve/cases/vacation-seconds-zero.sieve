require "vacation-seconds";
vacation :seconds 0 "Away.";
