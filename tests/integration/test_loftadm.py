"""loftadm end to end against a live loftd: every command in every
formatter where it makes sense (json parsed, tab header and column count,
flow key=value, table header), who/kick with masks, CIDRs and session ids
ending exactly the matching sessions, the journal and deliver-test, a
provoked error in `log errors`, the local userdb lookup, the peer-uid
check refusing an unprivileged caller, and the exit codes 64, 67 and 75."""
import json
import os
import re
import shlex
import subprocess

import pytest

from conftest import binary, needs_root, wait_for
from test_lmtp import Raw
from test_stats import StatsDaemon

FORMATS = ("table", "flow", "tab", "json")


def adm(inst, *args, fmt=None, conf=None, sock=None, **kwargs):
    """Run loftadm; conf None means the instance's config."""
    cmd = [binary("loftadm"), "-c", conf if conf is not None else inst.conf]
    if sock is not None:
        cmd += ["--socket", sock]
    if fmt is not None:
        cmd += ["-f", fmt]
    r = subprocess.run(cmd + list(args), capture_output=True, text=True,
                       timeout=60, **kwargs)
    # a sanitizer build reports leaks and undefined behaviour here
    assert "Sanitizer" not in r.stderr and "runtime error" not in r.stderr, r.stderr
    return r


def ok(r):
    assert r.returncode == 0, (r.returncode, r.stdout, r.stderr)
    return r.stdout


def parse_flow(text):
    records = []
    for line in text.splitlines():
        rec = {}
        for word in shlex.split(line):
            key, sep, value = word.partition("=")
            assert sep == "=", line
            rec[key] = value
        records.append(rec)
    return records


def parse_tab(text):
    lines = text.splitlines()
    assert lines, "tab output has no header"
    header = lines[0].split("\t")
    rows = [line.split("\t") for line in lines[1:]]
    for row in rows:
        assert len(row) == len(header), (header, row)
    return [dict(zip(header, row)) for row in rows], header


def parse_table(text, header_words):
    lines = text.splitlines()
    assert lines and lines[0].split() == header_words, lines
    return [line.split() for line in lines[1:]]


VOLATILE = {"age_secs"}


def records(inst, *args, volatile=VOLATILE):
    """The same command in every formatter; returns the parsed json and
    checks that flow and tab carry the same records (three separate calls:
    fields in volatile, such as a session's age, may change between them)"""
    doc = json.loads(ok(adm(inst, *args, fmt="json")))
    flow = parse_flow(ok(adm(inst, *args, fmt="flow")))
    tab, header = parse_tab(ok(adm(inst, *args, fmt="tab")))
    assert len(flow) == len(tab)
    for f, t in zip(flow, tab):
        assert ({k: v for k, v in f.items() if k not in volatile} ==
                {k: v for k, v in t.items() if k in f and k not in volatile})
    return doc, flow, tab, header


def hold(addr, rcpt):
    """An LMTP session held after RCPT TO."""
    c = Raw(addr)
    c.reply()
    c.cmd("LHLO held.example.org")
    c.cmd("MAIL FROM:<a@b.c>")
    assert c.cmd(f"RCPT TO:<{rcpt}>") == ["250 2.1.5 OK"]
    return c


@pytest.fixture
def sd(inst):
    d = StatsDaemon(inst)
    yield d
    d.stop()


def admin_socket(inst):
    return os.path.join(inst.root, "run", "admin")


@needs_root
def test_who_and_kick(sd, inst):
    sd.start()
    a = hold(("127.0.0.1", sd.port), "user0@example.com")
    b = hold(("127.0.0.1", sd.port), "user1@example.com")
    u = hold(sd.socket, "user1@example.com")

    def sessions():
        return json.loads(ok(adm(inst, "who", "-1", fmt="json")))
    assert wait_for(lambda: len([s for s in sessions() if s["state"] == "RCPT TO"]) == 3)

    # grouped, doveadm style
    rows = parse_table(ok(adm(inst, "who")), ["username", "#", "service", "(pids)", "(ips)"])
    assert [r[:3] for r in rows] == [["user0@example.com", "1", "lmtp"],
                                     ["user1@example.com", "2", "lmtp"]]
    assert rows[0][4] == "(127.0.0.1)" and re.fullmatch(r"\(\d+\)", rows[0][3])
    doc, flow, tab, header = records(inst, "who")
    assert header == ["username", "connections", "service", "pids", "ips"]
    assert {d["username"]: d["connections"] for d in doc} == {
        "user0@example.com": 1, "user1@example.com": 2}
    assert flow[1]["connections"] == "2" and tab[0]["ips"] == "127.0.0.1"
    assert [d["username"] for d in json.loads(ok(adm(inst, "who", "user1*", fmt="json")))] == [
        "user1@example.com"]

    # one line per session
    rows = parse_table(ok(adm(inst, "who", "-1")),
                       ["session", "service", "pid", "user", "ip", "state", "age"])
    assert len(rows) == 3
    doc, flow, tab, header = records(inst, "who", "-1")
    assert {"session", "service", "pid", "user", "ip", "state", "age_secs"} <= set(header)
    by_user = {}
    for s in doc:
        by_user.setdefault(s["user"], []).append(s)
    unix_sid = [s["session"] for s in by_user["user1@example.com"] if s["ip"] == ""][0]

    # kick a user mask: exactly user0's session ends
    out = ok(adm(inst, "kick", "user0*"))
    rows = parse_table(out, ["session", "service", "pid", "user", "ip"])
    assert len(rows) == 1 and rows[0][3] == "user0@example.com"
    assert a.line() == "421 4.3.2 testhost Session terminated by administrator"
    assert b.cmd("NOOP") == ["250 2.0.0 OK"] and u.cmd("NOOP") == ["250 2.0.0 OK"]

    # kick a CIDR: the TCP session of user1 ends, the UNIX one stays
    kicked = json.loads(ok(adm(inst, "kick", "127.0.0.0/8", fmt="json")))
    assert kicked["count"] == 1 and kicked["kicked"][0]["ip"] == "127.0.0.1"
    assert b.line().startswith("421 4.3.2 ")
    assert u.cmd("NOOP") == ["250 2.0.0 OK"]

    # nothing matches: said so, exit 0
    r = adm(inst, "kick", "10.0.0.0/8")
    assert r.returncode == 0 and r.stdout == "no sessions matched\n"
    assert json.loads(ok(adm(inst, "kick", "nobody*", fmt="json"))) == {"count": 0, "kicked": []}
    assert parse_tab(ok(adm(inst, "kick", "nobody*", fmt="tab")))[1] == [
        "session", "service", "pid", "user", "ip"]

    # kick by session id (flow output)
    flow = parse_flow(ok(adm(inst, "kick", unix_sid, fmt="flow")))
    assert [f["session"] for f in flow] == [unix_sid]
    assert u.line().startswith("421 4.3.2 ")
    assert wait_for(lambda: sessions() == [])


@needs_root
def test_deliver_test_and_deliveries(sd, inst):
    sd.start()
    r = adm(inst, "deliver-test", "user0@example.com")
    out = ok(r)
    assert re.search(r"^S: 250 2\.0\.0 <user0@example\.com> \S+ Saved$", out, re.M), out
    assert out.startswith(f"LMTP unix:{sd.socket}\n")
    assert re.search(r"^time +session +user +rcpt +result +code +mailbox +msgid$", out, re.M)
    assert len(inst.new_files("user0@example.com")) == 1
    msgid = re.search(r"<loftadm-test\.\S+>", out).group(0)

    doc = json.loads(ok(adm(inst, "deliver-test", "user1@example.com", fmt="json")))
    assert doc["result"] == "saved" and doc["delivery"]["result"] == "saved"
    assert doc["delivery"]["msgid"] == doc["msgid"] and doc["reply"].endswith(" Saved")
    flow = parse_flow(ok(adm(inst, "deliver-test", "user1@example.com", fmt="flow")))
    assert flow[0]["result"] == "saved" and flow[0]["delivery.code"] == "250"

    r = adm(inst, "deliver-test", "nosuch@example.com")
    assert r.returncode == 67, (r.stdout, r.stderr)
    assert "550 5.1.1 <nosuch@example.com> User doesn't exist" in r.stdout

    # the journal, with every filter
    doc, flow, tab, header = records(inst, "deliveries", "--msgid", msgid)
    assert len(doc) == 1 and doc[0]["user"] == "user0@example.com"
    assert {"ts", "session", "user", "rcpt", "result", "code", "mailbox", "msgid"} <= set(header)
    assert flow[0]["msgid"] == msgid and tab[0]["result"] == "saved"
    sid = doc[0]["session"]
    assert [d["msgid"] for d in json.loads(ok(adm(inst, "deliveries", "--session", sid, fmt="json")))] == [msgid]
    assert len(json.loads(ok(adm(inst, "deliveries", "--user", "user1*", fmt="json")))) == 2
    assert json.loads(ok(adm(inst, "deliveries", "--result=tempfail", fmt="json"))) == []
    assert len(json.loads(ok(adm(inst, "deliveries", "--result", "saved", "--since", "1h",
                                 "--limit", "2", fmt="json")))) == 2
    assert len(json.loads(ok(adm(inst, "deliveries", "--sender", "", "--result", "saved",
                                 fmt="json")))) == 3
    def rejected():
        return json.loads(ok(adm(inst, "deliveries", "--result", "rejected", fmt="json")))
    # refusals at RCPT reach the journal a moment later than the 250s
    assert wait_for(lambda: rejected() != [], timeout=10)
    assert [(d["rcpt"], d["code"]) for d in rejected()] == [("nosuch@example.com", 550)]
    rows = parse_table(ok(adm(inst, "deliveries", "--user", "user0*")),
                       ["time", "session", "user", "rcpt", "result", "code", "mailbox", "msgid"])
    # the time column is "YYYY-MM-DD HH:MM:SS": two words
    assert len(rows) == 1 and rows[0][3:] == ["user0@example.com", "user0@example.com",
                                             "saved", "250", "INBOX", msgid]
    assert adm(inst, "deliveries", "--since", "soon").returncode == 64
    assert adm(inst, "deliveries", "--result", "lost").returncode == 64


@needs_root
def test_user_lookup(inst):
    inst.add_user("alias@example.com", extra="userdb_mail=maildir:~/Mail/%n:LAYOUT=fs")
    r = adm(inst, "user", "user0@example.com")
    rows = {line.split(None, 1)[0]: line.split(None, 1)[1:] for line in ok(r).splitlines()}
    assert rows["field"] == ["value"]
    home = inst.home("user0@example.com")
    assert rows["home"] == [home] and rows["mailbox_path"] == [os.path.join(home, "Maildir")]
    assert rows["uid"] == [str(os.stat(inst.vmail).st_uid)] and rows["ids_check"] == ["ok"]

    doc = json.loads(ok(adm(inst, "user", "alias@example.com", fmt="json")))
    home = inst.home("alias@example.com")
    assert doc["mail_location"] == "maildir:~/Mail/alias:LAYOUT=fs"
    assert doc["userdb"]["mail"] == "maildir:~/Mail/alias:LAYOUT=fs"
    assert doc["mailbox_path"] == os.path.join(home, "Mail", "alias")
    assert doc["storage"] == "maildir"
    flow = parse_flow(ok(adm(inst, "user", "alias@example.com", fmt="flow")))
    assert flow[0]["userdb.mail"] == doc["mail_location"] and flow[0]["home"] == home
    tab, header = parse_tab(ok(adm(inst, "user", "alias@example.com", fmt="tab")))
    assert header[:3] == ["user", "uid", "gid"] and tab[0]["mailbox_path"] == doc["mailbox_path"]

    r = adm(inst, "user", "nosuch@example.com")
    assert r.returncode == 67 and "doesn't exist" in r.stderr
    os.rename(inst.passwd, inst.passwd + ".away")
    r = adm(inst, "user", "user0@example.com")
    assert r.returncode == 75 and "passwd" in r.stderr, r.stderr


@needs_root
def test_log_errors_shows_provoked_error(sd, inst):
    sd.start()
    os.rename(inst.passwd, inst.passwd + ".away")
    c = Raw(("127.0.0.1", sd.port))
    c.reply()
    c.cmd("MAIL FROM:<a@b.c>")
    assert c.cmd("RCPT TO:<user0@example.com>")[0].startswith("451 4.3.0")

    def errors():
        return [e for e in json.loads(ok(adm(inst, "log", "errors", fmt="json")))
                if "passwd" in e["msg"]]
    assert wait_for(errors)
    e = errors()[0]
    assert e["level"] == "error" and e["service"] == "lmtp" and e["session"]
    out = ok(adm(inst, "log", "errors", "--since", "5min", "--limit", "10"))
    lines = out.splitlines()
    assert lines[0].split() == ["time", "level", "service", "session", "msg"]
    assert any(e["session"] in line and "passwd" in line and " error " in line
               for line in lines[1:]), out
    doc, flow, tab, header = records(inst, "log", "errors")
    assert {"ts", "level", "service", "session", "msg"} <= set(header)
    assert any("passwd" in f["msg"] for f in flow) and any("passwd" in t["msg"] for t in tab)
    assert adm(inst, "log", "errors", "--limit", "x").returncode == 64


@needs_root
def test_stats_services_debug_log_and_reload(sd, inst):
    sd.start()
    ok(adm(inst, "deliver-test", "user0@example.com"))
    # process_* figures and log counts move between the three calls
    doc, flow, tab, header = records(inst, "stats", "dump",
                                     volatile={"value", "count", "sum"})
    saved = [m for m in doc["metrics"] if m["name"] == "loft_deliveries_total"
             and m["labels"] == {"protocol": "lmtp", "result": "saved"}]
    assert saved and saved[0]["value"] == 1
    assert {"name", "type", "labels.protocol", "value", "count", "sum"} <= set(header)
    assert any(f["name"] == "loft_deliveries_total" and f.get("labels.result") == "saved"
               and f["value"] == "1" and f["labels.protocol"] == "lmtp" for f in flow)
    rows = parse_table(ok(adm(inst, "stats", "dump")), ["name", "labels", "value", "count", "sum"])
    assert ["loft_deliveries_total", "protocol=lmtp,result=saved", "1"] in rows
    assert ok(adm(inst, "stats", "reset")) == ""
    assert json.loads(ok(adm(inst, "stats", "reset", fmt="json"))) == {"ok": True}

    def services():
        return json.loads(ok(adm(inst, "service", "status", fmt="json")))["services"]
    assert wait_for(lambda: {"lmtp", "stats"} <= {s["name"] for s in services()})
    doc, flow, tab, header = records(inst, "service", "status")
    assert {"name", "processes", "process_limit", "client_limit", "restarts", "listeners"} <= set(header)
    lmtp = [t for t in tab if t["name"] == "lmtp"][0]
    assert f"unix:{sd.socket}" in lmtp["listeners"].split(",")
    rows = parse_table(ok(adm(inst, "service", "status")),
                       ["name", "processes", "process_limit", "client_limit", "restarts", "listeners"])
    assert {r[0] for r in rows} >= {"lmtp", "stats"}

    # run-time debug for one user
    assert ok(adm(inst, "debug", "user0*", "on")).splitlines() == ["debug users", "user0*"]
    assert json.loads(ok(adm(inst, "debug", "user0*", "on", fmt="json"))) == {"debug_users": ["user0*"]}
    assert parse_flow(ok(adm(inst, "debug", "user9*", "on", fmt="flow"))) == [
        {"user_mask": "user0*"}, {"user_mask": "user9*"}]
    ok(adm(inst, "debug", "user9*", "off"))
    ok(adm(inst, "deliver-test", "user0@example.com"))
    ok(adm(inst, "deliver-test", "user1@example.com"))
    log = inst.log()
    assert re.search(r"lmtp\(user0@example\.com\)<\d+><\S+>: Debug: ", log), log
    assert not re.search(r"lmtp\(user1@example\.com\)<\d+><\S+>: Debug: ", log)
    assert ok(adm(inst, "debug", "user0*", "off")) == "debug logging is off for every user\n"

    # log test / reopen
    assert ok(adm(inst, "log", "test")) == ""
    assert wait_for(lambda: "log test" in inst.log("loft.log"))
    os.rename(os.path.join(inst.logdir, "loft-info.log"), os.path.join(inst.logdir, "old.log"))
    assert ok(adm(inst, "log", "reopen")) == ""
    assert wait_for(lambda: os.path.exists(os.path.join(inst.logdir, "loft-info.log")))

    # reload: fine, then a broken config that is kept out
    assert ok(adm(inst, "reload")) == ""
    assert wait_for(lambda: {"lmtp", "stats"} <= {s["name"] for s in services()}, timeout=20)
    with open(inst.conf, "a") as f:
        f.write("no_such_setting = 1\n")
    # loftadm itself cannot parse the file now: it still finds base_dir and
    # prints loftd's answer
    r = adm(inst, "reload")
    assert r.returncode == 75, (r.stdout, r.stderr)
    assert re.match("loftadm: reload: " + re.escape(inst.conf) + r":\d+: ", r.stderr), r.stderr
    assert adm(inst, "who").returncode == 0
    assert {"lmtp", "stats"} <= {s["name"] for s in services()}


@needs_root
def test_peer_uid_check_and_socket_without_config(sd, inst):
    sd.start()
    sock = admin_socket(inst)
    c = hold(("127.0.0.1", sd.port), "user0@example.com")
    assert wait_for(lambda: len(json.loads(ok(adm(inst, "who", fmt="json")))) == 1)
    # as nobody the 0600 socket is closed
    r = adm(inst, "who", conf="/nonexistent", sock=sock, user="nobody", group="nogroup",
            extra_groups=[])
    assert r.returncode == 77 and "Permission denied" in r.stderr, r.stderr
    os.chmod(sock, 0o666)
    as_nobody = dict(conf="/nonexistent", sock=sock, user="nobody", group="nogroup",
                     extra_groups=[])
    rows = parse_table(ok(adm(inst, "who", **as_nobody)), ["username", "#", "service", "(pids)", "(ips)"])
    assert rows[0][0] == "user0@example.com"
    for cmd in (["kick", "user0*"], ["debug", "user0*", "on"], ["stats", "reset"], ["reload"]):
        r = adm(inst, *cmd, **as_nobody)
        assert r.returncode == 77 and "permission denied" in r.stderr, (cmd, r.stderr)
    assert c.cmd("NOOP") == ["250 2.0.0 OK"]
    # root with --socket and no config readable
    kicked = json.loads(ok(adm(inst, "kick", "user0*", fmt="json", conf="/nonexistent", sock=sock)))
    assert kicked["count"] == 1
    assert c.line().startswith("421 4.3.2 ")


@needs_root
def test_stop(sd, inst):
    sd.start()
    with open(inst.conf, "a") as f:
        f.write("base_dir = /nonexistent\nservice lmtp {\n  bogus = 1\n}\n")
    # a broken config still names base_dir (the last top-level one wins)
    assert "not running" in adm(inst, "stop").stderr
    with open(inst.conf, "a") as f:
        f.write(f"base_dir = \"{inst.root}/run\" # back\n")
    assert ok(adm(inst, "stop")) == ""
    assert sd.proc.wait(timeout=10) == 0
    r = adm(inst, "stop")
    assert r.returncode == 75 and "not running" in r.stderr
    r = adm(inst, "who")
    assert r.returncode == 75
    lines = r.stderr.splitlines()
    assert lines[0] == (f"loftadm: loft is not running (connect to {admin_socket(inst)}: "
                        "No such file or directory)"), r.stderr
    assert re.fullmatch("loftadm: note: base_dir read from a config with errors: " +
                        re.escape(inst.conf) + r":\d+: Unknown setting: bogus", lines[1])
    assert len(lines) == 2


def test_exit_codes_without_daemon(inst):
    # a config whose base_dir has no socket
    r = adm(inst, "who")
    assert r.returncode == 75
    assert r.stderr.startswith("loftadm: loft is not running (connect to ")
    r = adm(inst, "who", conf="/nonexistent", sock=os.path.join(inst.root, "nosock"))
    assert r.returncode == 75 and "not running" in r.stderr
    r = adm(inst, "stats", "dump", fmt="json")
    assert r.returncode == 75 and r.stdout == ""
    # usage errors: 64, usage on stderr
    for args in (["-f", "xml", "who"], ["bogus"], ["kick"], ["debug", "u*", "maybe"],
                 ["who", "--bad"], ["stats"], ["user"], ["log", "errors", "--since"],
                 ["deliveries", "--limit", "-1"]):
        r = adm(inst, *args)
        assert r.returncode == 64 and "usage: loftadm" in r.stderr and r.stdout == "", args
    r = subprocess.run([binary("loftadm")], capture_output=True, text=True)
    assert r.returncode == 64 and "usage:" in r.stderr
    # help: 0, on stdout
    r = adm(inst, "help")
    assert r.returncode == 0 and re.search(r"^  who +\[-1\]", r.stdout, re.M)
    r = adm(inst, "help", "deliveries")
    assert r.returncode == 0 and r.stdout.startswith("usage: loftadm deliveries [--user <mask>]")
    assert adm(inst, "kick", "-h").stdout.startswith("usage: loftadm kick ")
    r = subprocess.run([binary("loftadm"), "--version"], capture_output=True, text=True)
    assert r.returncode == 0 and r.stdout.startswith("loftadm ")


@needs_root
def test_admin_socket_group_widens_to_read_only_commands(inst):
    d = StatsDaemon(inst, extra="admin_socket_group = nogroup\n")
    try:
        d.start()
        sock = admin_socket(inst)
        st = os.stat(sock)
        assert (st.st_mode & 0o777) == 0o660
        import grp
        assert st.st_gid == grp.getgrnam("nogroup").gr_gid
        as_member = dict(conf="/nonexistent", sock=sock, user="nobody", group="nogroup",
                         extra_groups=[])
        ok(adm(inst, "who", **as_member))
        r = adm(inst, "kick", "*", **as_member)
        assert r.returncode == 77 and "permission denied" in r.stderr
    finally:
        d.stop()
