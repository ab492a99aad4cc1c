if foo { keep; }
