require ["copy"];
redirect :copy "phone@example.net";
keep;
