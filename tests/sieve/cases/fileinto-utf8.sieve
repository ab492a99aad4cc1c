require "fileinto";
fileinto "Geschäftlich";
