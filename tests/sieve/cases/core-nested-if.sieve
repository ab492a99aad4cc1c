if true {
  if header :contains "from" "alice" {
    if not false { redirect "n@example.net"; stop; }
  }
  discard;
}
