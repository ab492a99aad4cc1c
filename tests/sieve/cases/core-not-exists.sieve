if not exists "x-spam-flag" { redirect "clean@example.net"; }
