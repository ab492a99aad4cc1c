# bench/sieve/before.sieve - the site's sieve_before script: infected
# mail away, high spam scores into Junk before users' scripts run.
require ["fileinto", "mailbox"];

if header :contains "X-Virus-Status" "Infected" { discard; stop; }
if header :contains "X-Spam-Level" "**********" {
  fileinto :create "Junk"; stop;
}
