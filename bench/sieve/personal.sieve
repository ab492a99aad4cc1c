# bench/sieve/personal.sieve - a user's script as people write them (30
# rules): spam by header, mailing lists by List-Id into folders named
# from variables, plus-address folders, people and flags, notifications,
# and a vacation planned for later (it does not fire).
require ["fileinto", "mailbox", "variables", "envelope", "subaddress",
         "imap4flags", "vacation", "date", "relational",
         "comparator-i;ascii-numeric"];

# 1-5: spam and senders not wanted
if header :contains "X-Spam-Flag" "YES" { fileinto :create "Junk"; stop; }
if header :value "ge" :comparator "i;ascii-numeric" "X-Spam-Score" "6" {
  fileinto :create "Junk"; stop;
}
if header :matches "Subject" ["*[SPAM]*", "*viagra*", "*lottery winner*"] {
  fileinto :create "Junk"; stop;
}
if address :domain :is "from" ["spammer.example", "bulk-offers.example"] {
  discard; stop;
}
if envelope :all :is "from" ["bad@abuse.example", "worse@abuse.example"] {
  discard; stop;
}

# 6-8: mailing lists into Lists/<name>
if header :matches "List-Id" "*<*.*>*" {
  set :lower "list" "${2}";
  fileinto :create "Lists/${list}"; stop;
}
if header :matches "X-Mailing-List" "*@*" {
  set :lower "list" "${1}";
  fileinto :create "Lists/${list}"; stop;
}
if address :matches "sender" "*-bounces@*" {
  set :lower "list" "${1}";
  fileinto :create "Lists/${list}"; stop;
}

# 9: plus addresses into Plus/<detail>
if envelope :detail :matches "to" "?*" {
  set :lower "detail" "${0}";
  fileinto :create "Plus/${detail}"; stop;
}

# 10-15: notifications and machines
if address :is "from" "notifications@github.com" {
  if header :matches "X-GitHub-Reason" "*" {
    fileinto :create "GitHub/${1}"; stop;
  }
  fileinto :create "GitHub"; stop;
}
if address :is "from" ["jira@work.example.com", "confluence@work.example.com"] {
  fileinto :create "Work/Tracker"; stop;
}
if address :localpart :matches "from" ["noreply*", "no-reply*", "donotreply*"] {
  fileinto :create "Notifications"; stop;
}
if anyof (header :is "Precedence" ["bulk", "junk"],
          address :localpart :is "from" "newsletter") {
  fileinto :create "Newsletters"; stop;
}
if header :contains "Subject" ["Report domain:", "DMARC Aggregate"] {
  fileinto :create "Reports"; stop;
}
if anyof (exists "X-Cron-Env", address :localpart :is "from" "root") {
  fileinto :create "System"; stop;
}

# 16-19: bills, calendars, bounces, auto-replies
if anyof (address :domain :is "from" ["bank.example", "billing.example.net"],
          header :contains "Subject" "[invoice]") {
  addflag "$Finance";
  fileinto :create "Finance"; stop;
}
if header :contains "Content-Type" "text/calendar" {
  fileinto :create "Calendar"; stop;
}
if address :localpart :is "from" ["MAILER-DAEMON", "postmaster"] {
  fileinto :create "Bounces"; stop;
}
if header :is "Auto-Submitted" ["auto-replied", "auto-generated"] {
  fileinto :create "Autoreplies"; stop;
}

# 20-29: people, importance, flags (the mail stays in INBOX)
if address :is "from" ["boss@work.example.com", "ceo@work.example.com"] {
  addflag "\\Flagged";
}
if address :domain :is "from" "family.example.org" { addflag "$Family"; }
if header :contains "Subject" ["urgent", "asap"] { addflag "\\Flagged"; }
if header :is ["Importance", "X-Priority"] ["high", "1"] { addflag "$Important"; }
if allof (address :domain :is "from" "work.example.com",
          not address :localpart :is "from" ["boss", "ceo"]) {
  addflag "$Work";
}
if header :contains "Cc" "team@work.example.com" { addflag "$Team"; }
if size :over 5M { addflag "$Big"; }
if header :matches "Subject" "Re: *" { addflag "$Thread"; }
if exists "X-Original-To" { addflag "$Forwarded"; }
if header :contains "From" "friend@" { addflag "$Friends"; }

# 30: a vacation planned for later
if allof (currentdate :value "ge" "date" "2099-07-01",
          currentdate :value "le" "date" "2099-07-14") {
  vacation :days 7 :subject "Away until July 14"
    "I am away and read mail when I am back.";
}
