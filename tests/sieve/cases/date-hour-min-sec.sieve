require ["date", "fileinto", "variables"];
if date :zone "-0130" :matches "date" "hour" "*" { set "h" "${1}"; }
if date :zone "-0130" :matches "date" "minute" "*" { set "m" "${1}"; }
if date :zone "-0130" :matches "date" "second" "*" { fileinto "${h}.${m}.${1}"; }
