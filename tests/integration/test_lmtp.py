"""LMTP end to end: loftd + loft-lmtp driven by Python's smtplib.LMTP, raw
sockets (pipelining, BDAT, errors, limits) and Postfix's smtp-source, over
TCP and the UNIX socket; checks the replies against Dovecot's transcripts
and the files on disk."""
import json
import mailbox
import os
import re
import shutil
import signal
import smtplib
import socket
import subprocess
import time

import pytest

from conftest import Daemon, binary, needs_root, wait_for

MSG = (b"From: Sender <sender@example.org>\r\n"
       b"To: user0@example.com\r\n"
       b"Subject: lmtp test\r\n"
       b"Message-ID: <lmtp-1@example.org>\r\n"
       b"\r\n"
       b"Hello, this is a test body.\r\n"
       b"..leading dot line\r\n"
       b"last line\r\n")


class Raw:
    """A line-level LMTP client on a socket."""

    def __init__(self, addr):
        family = socket.AF_UNIX if isinstance(addr, str) else socket.AF_INET
        self.sock = socket.socket(family, socket.SOCK_STREAM)
        self.sock.settimeout(20)
        self.sock.connect(addr)
        self.buf = b""

    def send(self, data):
        self.sock.sendall(data)

    def line(self):
        while b"\n" not in self.buf:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise EOFError(self.buf)
            self.buf += chunk
        line, _, self.buf = self.buf.partition(b"\n")
        return line.rstrip(b"\r").decode("utf-8", "replace")

    def reply(self):
        """One (possibly multi-line) reply: list of lines."""
        lines = [self.line()]
        while len(lines[-1]) > 3 and lines[-1][3] == "-":
            lines.append(self.line())
        return lines

    def cmd(self, text):
        self.send(text.encode() + b"\r\n")
        return self.reply()

    def closed(self):
        try:
            return self.sock.recv(1) == b""
        except (ConnectionResetError, socket.timeout):
            return True

    def close(self):
        self.sock.close()


def new_files(inst, user, folder=""):
    return inst.new_files(user, folder)


def read_new(inst, user, folder=""):
    d = os.path.join(inst.maildir(user, folder), "new")
    return [open(os.path.join(d, f), "rb").read() for f in sorted(os.listdir(d))]


@needs_root
def test_smtplib_tcp_two_recipients_and_unknown(daemon, inst):
    daemon.start()
    with smtplib.LMTP("127.0.0.1", daemon.port) as s:
        code, resp = s.ehlo("client.example.org")
        assert code == 250
        for ext in ("pipelining", "enhancedstatuscodes", "8bitmime", "chunking", "size"):
            assert s.has_extn(ext), ext
        assert s.esmtp_features["size"] == str(50 * 1024 * 1024)
        assert s.mail("sender@example.org")[0] == 250
        assert s.rcpt("user0@example.com")[0] == 250
        assert s.rcpt("nosuch@example.com")[0] == 550
        assert s.rcpt("user1@example.com")[0] == 250
        # smtplib reads one reply after DATA; LMTP sends one per recipient
        code, first = s.data(MSG)
        assert code == 250 and first.startswith(b"2.0.0 <user0@example.com> ")
        code, second = s.getreply()
        assert code == 250 and second.startswith(b"2.0.0 <user1@example.com> ")
    a = read_new(inst, "user0@example.com")
    b = read_new(inst, "user1@example.com")
    assert len(a) == 1 and a == b
    assert b".leading dot line\n" in a[0] and b"\r\n" not in a[0]
    assert a[0].startswith(b"Return-Path: <sender@example.org>\nReceived: from client.example.org ([127.0.0.1])\n\tby testhost with LMTP\n")
    assert b"Delivered-To:" not in a[0] and b"\tfor <" not in a[0]
    # the second copy is a hard link of the first
    f = os.path.join(inst.maildir("user0@example.com"), "new", new_files(inst, "user0@example.com")[0])
    assert os.stat(f).st_nlink == 2
    md = mailbox.Maildir(inst.maildir("user1@example.com"), create=False)
    assert [m["Subject"] for m in md] == ["lmtp test"]


@needs_root
def test_smtplib_unix_socket_single_rcpt_headers(daemon, inst):
    daemon.start()
    assert (os.stat(daemon.socket).st_mode & 0o777) == 0o666
    with smtplib.LMTP(daemon.socket) as s:
        s.ehlo("unix.example.org")
        assert s.sendmail("sender@example.org", ["user0@example.com"], MSG) == {}
    data = read_new(inst, "user0@example.com")[0]
    assert data.startswith(b"Return-Path: <sender@example.org>\n"
                           b"Delivered-To: user0@example.com\n"
                           b"Received: from unix.example.org\n\tby testhost with LMTP\n")
    assert b"\tfor <user0@example.com>; " in data


@needs_root
def test_session_id_in_reply_and_log(daemon, inst):
    daemon.start()
    c = Raw(("127.0.0.1", daemon.port))
    assert re.match(r"220 testhost loft ready\.", c.reply()[0])
    c.cmd("LHLO c.example.org")
    assert c.cmd("MAIL FROM:<sender@example.org>") == ["250 2.1.0 OK"]
    assert c.cmd("RCPT TO:<user0@example.com>") == ["250 2.1.5 OK"]
    assert c.cmd("RCPT TO:<nosuch@example.com>") == [
        "550 5.1.1 <nosuch@example.com> User doesn't exist: nosuch@example.com"]
    assert c.cmd("RCPT TO:<user1@example.com>") == ["250 2.1.5 OK"]
    assert c.cmd("DATA") == ["354 OK"]
    c.send(MSG + b".\r\n")
    r1, r2 = c.line(), c.line()
    m = re.match(r"^250 2\.0\.0 <user0@example\.com> ([A-Za-z0-9+/]{22}) Saved$", r1)
    assert m, r1
    sid = m.group(1)
    assert r2 == f"250 2.0.0 <user1@example.com> {sid}:R3 Saved"
    # second transaction: :T2
    c.cmd("MAIL FROM:<>")
    c.cmd("RCPT TO:<user1@example.com>")
    c.cmd("DATA")
    c.send(MSG + b".\r\n")
    assert c.line() == f"250 2.0.0 <user1@example.com> {sid}:T2 Saved"
    assert c.cmd("QUIT") == ["221 2.0.0 Bye"]
    assert c.closed()
    # lines reach the file through loft-log: the session's last one
    # arrives after all the others
    assert wait_for(lambda: re.search(r"Disconnect from 127\.0\.0\.1: Logged out", inst.log()))
    log = inst.log()
    assert re.search(r"lmtp\(user0@example\.com\)<\d+><" + re.escape(sid) +
                     r">: Info: msgid=<lmtp-1@example\.org>: saved mail to INBOX", log), log
    assert f"<{sid}:R3>: Info: msgid=<lmtp-1@example.org>: saved mail to INBOX" in log
    assert re.search(r"lmtp<\d+><" + re.escape(sid) + r">: Info: Connect from 127\.0\.0\.1", log)
    assert re.search(r"Disconnect from 127\.0\.0\.1: Logged out \(state=READY\)", log)


@needs_root
def test_pipelining_replies_in_order(daemon, inst):
    daemon.start()
    c = Raw(("127.0.0.1", daemon.port))
    c.reply()
    c.cmd("LHLO c.example.org")
    c.send(b"MAIL FROM:<sender@example.org>\r\nRCPT TO:<user0@example.com>\r\n"
           b"RCPT TO:<nosuch@example.com>\r\nRCPT TO:<user1@example.com>\r\nDATA\r\n")
    assert [c.line() for _ in range(5)] == [
        "250 2.1.0 OK", "250 2.1.5 OK",
        "550 5.1.1 <nosuch@example.com> User doesn't exist: nosuch@example.com",
        "250 2.1.5 OK", "354 OK"]
    c.send(MSG + b".\r\nRSET\r\nNOOP\r\nQUIT\r\n")
    lines = [c.line() for _ in range(5)]
    assert lines[0].startswith("250 2.0.0 <user0@example.com> ")
    assert lines[1].startswith("250 2.0.0 <user1@example.com> ")
    assert lines[2:] == ["250 2.0.0 OK", "250 2.0.0 OK", "221 2.0.0 Bye"]


@needs_root
def test_bdat_chunking(daemon, inst):
    daemon.start()
    c = Raw(("127.0.0.1", daemon.port))
    c.reply()
    c.cmd("LHLO c.example.org")
    c.cmd("MAIL FROM:<sender@example.org>")
    c.cmd("RCPT TO:<user0@example.com>")
    c.cmd("RCPT TO:<user1@example.com>")
    part1, part2 = MSG[:60], MSG[60:]
    c.send(b"BDAT %d\r\n" % len(part1) + part1)
    assert c.line() == "250 2.0.0 Added 60 octets"
    c.send(b"BDAT %d LAST\r\n" % len(part2) + part2)
    r1, r2 = c.line(), c.line()
    assert r1.startswith("250 2.0.0 <user0@example.com> ") and r1.endswith(" Saved")
    assert r2.startswith("250 2.0.0 <user1@example.com> ") and r2.endswith(":R2 Saved")
    # BDAT n then BDAT 0 LAST
    c.cmd("MAIL FROM:<sender@example.org>")
    c.cmd("RCPT TO:<user0@example.com>")
    c.send(b"BDAT %d\r\n" % len(MSG) + MSG)
    assert c.line() == f"250 2.0.0 Added {len(MSG)} octets"
    assert c.cmd("BDAT 0 LAST")[0].endswith(":T2 Saved")
    # DATA after BDAT; BDAT without MAIL; bad size
    c.cmd("MAIL FROM:<sender@example.org>")
    c.cmd("RCPT TO:<user0@example.com>")
    c.send(b"BDAT 5\r\nhello")
    assert c.line() == "250 2.0.0 Added 5 octets"
    assert c.cmd("DATA") == ["503 5.5.0 Bad sequence of commands"]
    assert c.cmd("RSET") == ["250 2.0.0 OK"]
    c.send(b"BDAT 5 LAST\r\nhello")
    assert c.line() == "503 5.5.0 MAIL needed first"
    assert c.cmd("BDAT xyz") == ["501 5.5.4 Invalid chunk size parameter"]
    stored = read_new(inst, "user0@example.com")
    assert len(stored) == 2
    assert all(b"Subject: lmtp test\n" in m for m in stored)


@needs_root
def test_command_errors_like_dovecot(daemon, inst):
    daemon.start()
    c = Raw(daemon.socket)
    c.reply()
    assert c.cmd("NOOP") == ["250 2.0.0 OK"]
    assert c.cmd("VRFY user0") == ["252 2.3.3 Try RCPT instead"]
    assert c.cmd("VRFY") == ["501 5.5.4 Invalid parameters"]
    assert c.cmd("HELO x") == ["500 5.5.1 Unknown command"]
    assert c.cmd("EHLO x") == ["500 5.5.1 Unknown command"]
    assert c.cmd("STARTTLS") == ["502 5.5.1 TLS support is not enabled."]
    assert c.cmd("AUTH PLAIN AAAA") == ["502 5.5.1 Unsupported command"]
    assert c.cmd("RCPT TO:<user0@example.com>") == ["503 5.5.0 MAIL needed first"]
    assert c.cmd("RCPT") == ["503 5.5.0 MAIL needed first"]
    assert c.cmd("DATA") == ["503 5.5.0 MAIL needed first"]
    assert c.cmd("MAIL FROM:sender@example.org") == [
        "501 5.5.4 Invalid FROM: Missing '<' at beginning of path"]
    assert c.cmd("MAIL FROM:<sender@example.org>") == ["250 2.1.0 OK"]
    assert c.cmd("MAIL FROM:<other@example.org>") == ["503 5.5.0 MAIL already given"]
    assert c.cmd("DATA") == ["503 5.5.0 No valid recipients"]
    assert c.cmd("RCPT TO:<>") == ["501 5.5.4 Invalid TO: Null path not allowed"]
    assert c.cmd("RCPT TO:<user0@example.com> NOTIFY=NEVER") == ["555 5.5.4 Unsupported parameters"]
    assert c.cmd("RSET") == ["250 2.0.0 OK"]
    assert c.cmd("MAIL FROM:<a@b.c> SIZE=1000 BODY=8BITMIME") == ["250 2.1.0 OK"]
    assert c.cmd("RSET") == ["250 2.0.0 OK"]
    assert c.cmd("QUIT") == ["221 2.0.0 Bye"]


@needs_root
def test_too_many_invalid_commands(daemon, inst):
    daemon.start()
    c = Raw(("127.0.0.1", daemon.port))
    c.reply()
    for _ in range(10):
        assert c.cmd("BOGUS") == ["500 5.5.1 Unknown command"]
    assert c.cmd("BOGUS") == ["421 4.7.0 testhost Too many invalid commands."]
    assert c.closed()
    # bad syntax of a known command counts the same; a good reply resets
    c = Raw(("127.0.0.1", daemon.port))
    c.reply()
    for _ in range(9):
        assert c.cmd("MAIL FROM:bad") == ["501 5.5.4 Invalid FROM: Missing '<' at beginning of path"]
    assert c.cmd("NOOP") == ["250 2.0.0 OK"]
    for _ in range(10):
        c.cmd("MAIL FROM:bad")
    assert c.cmd("MAIL FROM:bad") == ["421 4.7.0 testhost Too many invalid commands."]


@needs_root
def test_long_lines(daemon, inst):
    daemon.start()
    c = Raw(("127.0.0.1", daemon.port))
    c.reply()
    assert c.cmd("NOOP " + "A" * 4091) == ["250 2.0.0 OK"]
    assert c.cmd("NOOP " + "A" * 8187) == ["500 5.5.2 Line too long"]
    assert c.cmd("NOOP " + "Z" * 99995) == ["500 5.5.2 Line too long"]
    assert c.cmd("NOOP") == ["250 2.0.0 OK"]
    c.cmd("LHLO c.example.org")
    c.cmd("MAIL FROM:<sender@example.org>")
    c.cmd("RCPT TO:<user0@example.com>")
    c.cmd("DATA")
    body = (b"Subject: long\r\n\r\n" + b"B" * 998 + b"\r\n" + b"E" * 100000 + b"\r\n"
            b"nul:\x00:\r\nbare-LF line\nbare-CR\rend\r\n.dot\r\n")
    c.send(body.replace(b"\r\n.dot", b"\r\n..dot") + b".\r\n")
    assert c.line().endswith(" Saved")
    data = read_new(inst, "user0@example.com")[0]
    assert b"E" * 100000 + b"\n" in data
    assert b"nul:\x00:\nbare-LF line\nbare-CR\rend\n.dot\n" in data


@needs_root
def test_size_limits(inst):
    d = Daemon(inst, extra="lmtp_max_message_size = 1k\n")
    try:
        d.start()
        c = Raw(("127.0.0.1", d.port))
        c.reply()
        ehlo = c.cmd("LHLO c.example.org")
        assert "250 SIZE 1024" in ehlo
        assert c.cmd("MAIL FROM:<a@b.c> SIZE=5000") == [
            "552 5.3.4 Message size exceeds fixed maximum message size"]
        c.cmd("MAIL FROM:<a@b.c> SIZE=500")
        c.cmd("RCPT TO:<user0@example.com>")
        c.cmd("RCPT TO:<user1@example.com>")
        c.cmd("DATA")
        c.send(b"Subject: big\r\n\r\n" + (b"x" * 100 + b"\r\n") * 30 + b".\r\n")
        assert [c.line(), c.line()] == [
            "552 5.3.4 <user0@example.com> Message size exceeds fixed maximum message size",
            "552 5.3.4 <user1@example.com> Message size exceeds fixed maximum message size"]
        assert c.cmd("NOOP") == ["250 2.0.0 OK"]
        assert new_files(inst, "user0@example.com") == []
    finally:
        d.stop()


@needs_root
def test_duplicate_and_detail_recipients(inst):
    d = Daemon(inst, extra="lmtp_save_to_detail_mailbox = yes\nlda_mailbox_autocreate = yes\n")
    try:
        d.start()
        c = Raw(("127.0.0.1", d.port))
        c.reply()
        c.cmd("LHLO c.example.org")
        c.cmd("MAIL FROM:<sender@example.org>")
        for r in ("user0@example.com", "user0@example.com", "user0+news@example.com", "USER0@EXAMPLE.COM"):
            assert c.cmd(f"RCPT TO:<{r}>") == ["250 2.1.5 OK"]
        c.cmd("DATA")
        c.send(MSG + b".\r\n")
        lines = [c.line() for _ in range(4)]
        sid = lines[0].split()[3]
        assert lines[1] == f"250 2.0.0 <user0@example.com> {sid} Saved"
        assert lines[2] == f"250 2.0.0 <user0+news@example.com> {sid}:R3 Saved"
        assert lines[3] == f"250 2.0.0 <USER0@EXAMPLE.COM> {sid}:R4 Saved"
        assert len(new_files(inst, "user0@example.com")) == 2
        assert len(new_files(inst, "user0@example.com", ".news")) == 1
    finally:
        d.stop()


@needs_root
def test_userdb_failure_is_451(daemon, inst):
    daemon.start()
    os.unlink(inst.passwd)
    c = Raw(("127.0.0.1", daemon.port))
    c.reply()
    c.cmd("MAIL FROM:<a@b.c>")
    assert c.cmd("RCPT TO:<user0@example.com>") == [
        "451 4.3.0 <user0@example.com> Temporary user lookup failure"]


@needs_root
def test_client_gone_mid_data_stores_nothing(daemon, inst):
    daemon.start()
    c = Raw(("127.0.0.1", daemon.port))
    c.reply()
    c.cmd("MAIL FROM:<a@b.c>")
    c.cmd("RCPT TO:<user0@example.com>")
    c.cmd("DATA")
    c.send(MSG + b"partial line without end")
    c.close()
    assert wait_for(lambda: re.search(r"Disconnect from 127\.0\.0\.1: Connection closed \(state=DATA\)",
                                      inst.log()))
    assert new_files(inst, "user0@example.com") == []
    assert inst.tmp_files("user0@example.com") == []


@needs_root
def test_idle_timeout(inst):
    d = Daemon(inst, extra="lmtp_client_idle_timeout = 1 s\n")
    try:
        d.start()
        c = Raw(("127.0.0.1", d.port))
        c.reply()
        assert c.line() == "421 4.4.2 testhost Disconnected for inactivity"
        assert c.closed()
    finally:
        d.stop()


@needs_root
def test_smtp_source_load_tcp_and_unix(daemon, inst):
    if shutil.which("smtp-source") is None and not os.path.exists("/usr/sbin/smtp-source"):
        pytest.skip("smtp-source (postfix) not installed")
    daemon.start()
    src = shutil.which("smtp-source") or "/usr/sbin/smtp-source"
    r = subprocess.run([src, "-L", "-s", "5", "-m", "100", "-l", "2000", "-f", "sender@example.org",
                        "-t", "user0@example.com", f"127.0.0.1:{daemon.port}"],
                       capture_output=True, timeout=120)
    assert r.returncode == 0, r.stderr
    r = subprocess.run([src, "-L", "-s", "5", "-m", "50", "-f", "sender@example.org",
                        "-t", "user1@example.com", f"unix:{daemon.socket}"],
                       capture_output=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert wait_for(lambda: len(new_files(inst, "user0@example.com")) == 100)
    assert len(new_files(inst, "user1@example.com")) == 50


@needs_root
def test_graceful_shutdown_finishes_transaction(daemon, inst):
    daemon.start()
    c = Raw(("127.0.0.1", daemon.port))
    c.reply()
    c.cmd("MAIL FROM:<a@b.c>")
    c.cmd("RCPT TO:<user0@example.com>")
    idle = Raw(("127.0.0.1", daemon.port))
    idle.reply()
    children = daemon.children()
    daemon.proc.send_signal(signal.SIGTERM)
    # the idle session is told at once
    assert idle.line() == "421 4.3.2 testhost Service shutting down"
    # the transaction in progress still completes
    assert c.cmd("DATA") == ["354 OK"]
    c.send(MSG + b".\r\n")
    assert c.line().endswith(" Saved")
    assert c.line() == "421 4.3.2 testhost Service shutting down"
    daemon.proc.wait(timeout=40)
    assert len(new_files(inst, "user0@example.com")) == 1
    for pid in children:
        assert not os.path.exists(f"/proc/{pid}")
    assert not os.path.exists(daemon.socket)


@needs_root
def test_killed_worker_is_replaced(daemon, inst):
    daemon.start()
    before = daemon.children()
    assert before
    for pid in before:
        os.kill(pid, signal.SIGKILL)
    assert wait_for(lambda: daemon.children() and set(daemon.children()).isdisjoint(before))
    with smtplib.LMTP("127.0.0.1", daemon.port) as s:
        s.ehlo("x")
        assert s.sendmail("a@b.c", ["user0@example.com"], MSG) == {}


@needs_root
def test_standalone_stdin_session(inst):
    script = (b"LHLO x\r\nMAIL FROM:<a@b.c>\r\nRCPT TO:<user0@example.com>\r\nDATA\r\n" +
              MSG + b".\r\nQUIT\r\n")
    r = subprocess.run([binary("loft-lmtp"), "-c", inst.conf], input=script,
                       capture_output=True, timeout=30)
    assert r.returncode == 0, r.stderr
    out = r.stdout.decode()
    assert out.startswith("220 testhost loft ready.\r\n")
    assert re.search(r"250 2\.0\.0 <user0@example\.com> \S{22} Saved\r\n221 2\.0\.0 Bye\r\n$", out), out
    assert len(new_files(inst, "user0@example.com")) == 1


@needs_root
def test_json_log_delivery_record(inst):
    d = Daemon(inst, extra="log_format = json\n")
    try:
        d.start()
        with smtplib.LMTP("127.0.0.1", d.port) as s:
            s.ehlo("x")
            s.sendmail("sender@example.org", ["user0@example.com"], MSG)
        assert wait_for(lambda: '"event":"delivery"' in inst.log())
        recs = [json.loads(l) for l in inst.log().splitlines()]
        dl = [r for r in recs if r["event"] == "delivery"]
        assert len(dl) == 1
        r = dl[0]
        assert r["service"] == "lmtp" and r["result"] == "saved" and r["code"] == 250
        assert r["from"] == "Sender <sender@example.org>" and r["rcpt"] == "user0@example.com"
        assert r["msgid"] == "<lmtp-1@example.org>" and r["mailbox"] == "INBOX"
        assert r["duration_ms"] >= 0
    finally:
        d.stop()


@needs_root
def test_max_recipients(inst):
    d = Daemon(inst, extra="lmtp_max_recipients = 2\n")
    try:
        d.start()
        c = Raw(("127.0.0.1", d.port))
        c.reply()
        c.cmd("MAIL FROM:<a@b.c>")
        assert c.cmd("RCPT TO:<user0@example.com>") == ["250 2.1.5 OK"]
        assert c.cmd("RCPT TO:<user1@example.com>") == ["250 2.1.5 OK"]
        assert c.cmd("RCPT TO:<user0@example.com>") == ["452 4.5.3 Too many recipients"]
        c.cmd("DATA")
        c.send(MSG + b".\r\n")
        assert c.line().endswith(" Saved") and c.line().endswith(" Saved")
    finally:
        d.stop()


@needs_root
def test_slow_delivery_does_not_stall_other_sessions(inst):
    """A delivery stuck on an mbox lock holds its own session only: another
    session of the same process delivers meanwhile."""
    inst.add_user("slow@example.com", extra="userdb_mail=mbox:~/mail:INBOX=~/inbox.mbox")
    d = Daemon(inst, extra="mail_max_lock_timeout = 20 s\n",
               service_extra="process_min_avail = 1\n")
    try:
        d.start()
        home = inst.home("slow@example.com")
        os.makedirs(home)
        os.chown(os.path.dirname(home), 65534, 65534)
        os.chown(home, 65534, 65534)
        lock = os.path.join(home, "inbox.mbox.lock")
        with open(lock, "w") as f:
            f.write("held by the test")
        slow = Raw(("127.0.0.1", d.port))
        slow.reply()
        slow.cmd("MAIL FROM:<a@b.c>")
        slow.cmd("RCPT TO:<slow@example.com>")
        slow.cmd("DATA")
        slow.send(MSG + b".\r\n")
        time.sleep(0.3)
        start = time.monotonic()
        with smtplib.LMTP("127.0.0.1", d.port) as s:
            s.ehlo("fast")
            assert s.sendmail("a@b.c", ["user0@example.com"], MSG) == {}
        assert time.monotonic() - start < 3
        assert len(new_files(inst, "user0@example.com")) == 1
        os.unlink(lock)
        assert slow.line().endswith(" Saved")
        assert os.path.getsize(os.path.join(home, "inbox.mbox")) > len(MSG)
    finally:
        d.stop()


@needs_root
def test_reload_changes_size_in_next_lhlo(inst):
    d = Daemon(inst, extra="lmtp_max_message_size = 1M\n")
    try:
        d.start()
        c = Raw(("127.0.0.1", d.port))
        c.reply()
        assert "250 SIZE 1048576" in c.cmd("LHLO a")
        c.close()
        with open(inst.conf) as f:
            text = f.read().replace("lmtp_max_message_size = 1M", "lmtp_max_message_size = 2M")
        with open(inst.conf, "w") as f:
            f.write(text)
        r = subprocess.run([binary("loftd"), "-c", inst.conf, "reload"], capture_output=True)
        assert r.returncode == 0, r.stderr

        def size():
            c = Raw(("127.0.0.1", d.port))
            c.reply()
            lines = c.cmd("LHLO a")
            c.close()
            return "250 SIZE 2097152" in lines
        assert wait_for(size, timeout=10)
    finally:
        d.stop()


@needs_root
def test_second_sigterm_ends_sessions_with_421(daemon, inst):
    daemon.start()
    c = Raw(("127.0.0.1", daemon.port))
    c.reply()
    c.cmd("MAIL FROM:<a@b.c>")
    c.cmd("RCPT TO:<user0@example.com>")
    daemon.proc.send_signal(signal.SIGTERM)
    time.sleep(0.5)
    assert c.cmd("NOOP") == ["250 2.0.0 OK"]  # the transaction may finish
    daemon.proc.send_signal(signal.SIGTERM)
    assert c.line() == "421 4.3.2 testhost Service shutting down"
    daemon.proc.wait(timeout=40)
    assert new_files(inst, "user0@example.com") == []


@needs_root
@pytest.mark.parametrize("setting", ["mail_privileged_group", "privileged_group"])
def test_mbox_spool_with_mail_privileged_group(inst, setting):
    """/var/mail style: the spool is root:mail 0775, users may not create
    files there; loft-lmtp's worker takes the mail group for the dotlock
    and the new INBOX only, per thread. Dovecot's service-level spelling,
    `service lmtp { privileged_group = mail }`, does the same."""
    import grp
    mail_gid = grp.getgrnam("mail").gr_gid
    spool = os.path.join(inst.root, "spool")
    os.mkdir(spool)
    os.chown(spool, 0, mail_gid)
    os.chmod(spool, 0o775)
    location = f"mail_location = mbox:~/mail:INBOX={spool}/%n\n"
    if setting == "mail_privileged_group":
        d = Daemon(inst, extra="mail_privileged_group = mail\n" + location)
    else:
        d = Daemon(inst, extra=location, service_extra="privileged_group = mail")
    try:
        d.start()
        for _ in range(3):
            with smtplib.LMTP("127.0.0.1", d.port) as s:
                s.ehlo("x")
                assert s.sendmail("a@b.c", ["user0@example.com"], MSG) == {}
        box = os.path.join(spool, "user0")
        assert len(mailbox.mbox(box, create=False)) == 3
        assert not os.path.exists(box + ".lock")
    finally:
        d.stop()


@needs_root
def test_bdat_added_counts_the_chunk(daemon, inst):
    daemon.start()
    c = Raw(("127.0.0.1", daemon.port))
    c.reply()
    c.cmd("MAIL FROM:<a@b.c>")
    c.cmd("RCPT TO:<user0@example.com>")
    c.send(b"BDAT 10\r\n" + MSG[:10])
    assert c.line() == "250 2.0.0 Added 10 octets"
    c.send(b"BDAT 20\r\n" + MSG[10:30])
    assert c.line() == "250 2.0.0 Added 20 octets"
    c.send(b"BDAT %d LAST\r\n" % len(MSG[30:]) + MSG[30:])
    assert c.line().endswith(" Saved")
    assert read_new(inst, "user0@example.com")[0].endswith(MSG[30:].replace(b"\r\n", b"\n"))


@needs_root
def test_spool_failure_tempfails_and_stores_nothing(inst):
    """A message too big for memory spills to mail_temp_dir; when that
    fails, every recipient gets 451 and nothing (not even the part after
    the failure) is stored."""
    d = Daemon(inst, extra=f"mail_temp_dir = {inst.root}/no-such-dir\n")
    try:
        d.start()
        c = Raw(("127.0.0.1", d.port))
        c.reply()
        c.cmd("MAIL FROM:<a@b.c>")
        c.cmd("RCPT TO:<user0@example.com>")
        c.cmd("DATA")
        c.send(b"Subject: big\r\n\r\n" + (b"x" * 1000 + b"\r\n") * 600 + b".\r\n")
        assert c.line() == ("451 4.3.0 <user0@example.com> "
                            "Temporary failure spooling the message")
        assert c.cmd("NOOP") == ["250 2.0.0 OK"]
        assert new_files(inst, "user0@example.com") == []
    finally:
        d.stop()


@needs_root
def test_pipelined_duplicate_among_many_recipients(daemon, inst):
    """A duplicate RCPT that makes the recipient array grow (the fifth)
    must not read the id from the array it just moved: the process used to
    die (heap use-after-free) and take every session with it."""
    daemon.start()
    bystander = Raw(("127.0.0.1", daemon.port))
    bystander.reply()
    bystander.cmd("LHLO bystander")
    c = Raw(("127.0.0.1", daemon.port))
    c.reply()
    c.cmd("LHLO c.example.org")
    rcpts = ["user0@example.com", "user1@example.com", "user0+a@example.com",
             "user1+b@example.com", "user0@example.com", "user1@example.com"]
    c.send(b"MAIL FROM:<sender@example.org>\r\n" +
           b"".join(f"RCPT TO:<{r}>\r\n".encode() for r in rcpts) + b"DATA\r\n")
    assert [c.line() for _ in range(len(rcpts) + 2)] == \
        ["250 2.1.0 OK"] + ["250 2.1.5 OK"] * len(rcpts) + ["354 OK"]
    c.send(MSG + b".\r\nQUIT\r\n")
    lines = [c.line() for _ in range(len(rcpts))]
    sid = lines[0].split()[3]
    assert lines[4] == f"250 2.0.0 <user0@example.com> {sid} Saved"
    assert lines[5] == f"250 2.0.0 <user1@example.com> {sid}:R2 Saved"
    assert all(line.endswith(" Saved") for line in lines)
    assert c.line() == "221 2.0.0 Bye"
    # the other session of the same process is alive
    assert bystander.cmd("NOOP") == ["250 2.0.0 OK"]
    assert len(new_files(inst, "user0@example.com")) == 2
    assert len(new_files(inst, "user1@example.com")) == 2


@needs_root
def test_reload_keeps_open_sessions_on_the_old_generation(inst):
    """An MTA keeps LMTP connections open for reuse: a reload must not end
    them with 421 at their next MAIL. The old process takes no new
    connection, serves its open sessions with the settings they started
    with, and exits when the last one has gone."""
    d = Daemon(inst, extra="lmtp_max_message_size = 1M\n")
    try:
        d.start()
        kept = Raw(("127.0.0.1", d.port))
        kept.reply()
        assert "250 SIZE 1048576" in kept.cmd("LHLO kept")
        old = set(d.children())
        with open(inst.conf) as f:
            text = f.read().replace("lmtp_max_message_size = 1M", "lmtp_max_message_size = 2M")
        with open(inst.conf, "w") as f:
            f.write(text)
        for _ in range(3):
            r = subprocess.run([binary("loftd"), "-c", inst.conf, "reload"], capture_output=True)
            assert r.returncode == 0, r.stderr
            # the kept session delivers after every reload
            assert kept.cmd("MAIL FROM:<a@example.org>") == ["250 2.1.0 OK"]
            assert kept.cmd("RCPT TO:<user0@example.com>") == ["250 2.1.5 OK"]
            assert kept.cmd("DATA") == ["354 OK"]
            kept.send(MSG + b".\r\n")
            assert kept.line().endswith(" Saved")
        # new connections go to the new generation, with the new size
        assert wait_for(lambda: set(d.children()) - old)
        fresh = Raw(("127.0.0.1", d.port))
        fresh.reply()
        assert "250 SIZE 2097152" in fresh.cmd("LHLO fresh")
        fresh.cmd("QUIT")
        old_pids = old & set(d.children())
        assert old_pids, "the old process left with a session open"
        assert kept.cmd("QUIT") == ["221 2.0.0 Bye"]
        # and once its last session is gone, the old process exits
        assert wait_for(lambda: not (old_pids & set(d.children())), timeout=15)
        assert len(inst.new_files("user0@example.com")) == 3
        assert not re.search(r"\b421 4\.\d\.\d", inst.log() + inst.log("loft.log"))
    finally:
        d.stop()
