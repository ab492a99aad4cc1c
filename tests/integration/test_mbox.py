"""mbox integrity end to end: concurrent LMTP deliveries into one mbox with
every mbox_write_locks value (loft-lmtp's worker threads share one process,
so process-wide locks alone let them write at once), and an appender killed
with SIGKILL half way through a message, after which the next delivery
must cut the half message off and go on at once.

Every check parses the mbox message by message with Python's mailbox
module: each acknowledged message must be there exactly once, complete.
"""
import mailbox
import os
import signal
import smtplib
import subprocess
import threading

import pytest

from conftest import Daemon, binary, needs_root, wait_for

USER = "user0@example.com"
LOCATION = "mbox:~/mail:INBOX=~/inbox.mbox"


def body_lines(tag, lines):
    """A body whose every line names its message, so that a cut or an
    interleaving shows in the parsed message."""
    pad = "x" * 60
    return [f"{tag} line {i:06d} {pad}" for i in range(lines)]


def make_message(tag, lines):
    body = "\r\n".join(body_lines(tag, lines)) + "\r\n"
    return (f"From: sender@example.org\r\nTo: {USER}\r\n"
            f"Subject: {tag}\r\nMessage-ID: <{tag}@test>\r\n\r\n" + body).encode()


def expected_body(tag, lines):
    return "\n".join(body_lines(tag, lines)) + "\n"


def inbox_path(inst):
    return os.path.join(inst.home(USER), "inbox.mbox")


def parse_mbox(path):
    """{message-id tag: [payloads]} of every message in the mbox"""
    found = {}
    for msg in mailbox.mbox(path, create=False):
        tag = (msg["Message-ID"] or "<none>").strip("<>").split("@")[0]
        found.setdefault(tag, []).append(msg.get_payload())
    return found


def check_mbox(path, acked, lines_of):
    """every acknowledged message exactly once and intact; nothing else"""
    found = parse_mbox(path)
    problems = []
    for tag in acked:
        copies = found.get(tag, [])
        if len(copies) != 1:
            problems.append(f"{tag}: {len(copies)} copies")
        elif copies[0] != expected_body(tag, lines_of(tag)):
            problems.append(f"{tag}: body damaged")
    for tag in found:
        if tag not in acked:
            problems.append(f"{tag}: not acknowledged but stored ({len(found[tag])})")
    assert not problems, f"{len(problems)} problems: {problems[:10]}"


SESSIONS = 6
PER_SESSION = 10
LINES = 1500  # about 110 KB: several write() calls per message


@needs_root
@pytest.mark.parametrize("locks", ["dotlock", "dotlock_try", "fcntl", "lockf",
                                   "flock", "dotlock fcntl",
                                   "dotlock_try flock lockf"])
def test_concurrent_lmtp_sessions_one_mbox(inst, locks):
    d = Daemon(inst, extra=f"mail_location = {LOCATION}\n"
                           f"mbox_write_locks = {locks}\n"
                           "mail_fsync = never\n"
                           "mail_max_lock_timeout = 2 mins\n",
               service_extra="process_limit = 1\nprocess_min_avail = 1\n")
    acked, refused, errors = [], [], []
    lock = threading.Lock()

    def session(n):
        try:
            with smtplib.LMTP("127.0.0.1", d.port) as s:
                s.ehlo("client")
                for k in range(PER_SESSION):
                    tag = f"s{n}m{k}"
                    try:
                        s.sendmail("a@example.org", [USER], make_message(tag, LINES))
                        with lock:
                            acked.append(tag)
                    except smtplib.SMTPResponseException as e:
                        # a temporary failure is allowed, a stored copy of
                        # it is not (checked below)
                        with lock:
                            refused.append((tag, e.smtp_code))
                    except smtplib.SMTPRecipientsRefused as e:
                        with lock:
                            refused.append((tag, str(e)))
        except Exception as e:  # noqa: BLE001 - reported by the test
            with lock:
                errors.append(repr(e))

    try:
        d.start()
        assert len(d.children()) == 1
        threads = [threading.Thread(target=session, args=(n,)) for n in range(SESSIONS)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=600)
        assert not errors, errors
        assert all(code < 500 for _, code in refused if isinstance(code, int)), refused
        assert len(acked) + len(refused) == SESSIONS * PER_SESSION
        assert len(acked) >= SESSIONS * PER_SESSION // 2, refused
        check_mbox(inbox_path(inst), set(acked), lambda tag: LINES)
        home = inst.home(USER)
        assert not [f for f in os.listdir(home) if f.startswith(".") or f.endswith(".lock")]
    finally:
        d.stop()


def lda_cmd(inst, locks):
    return [binary("loft-lda"), "-c", inst.conf, "-d", USER, "-f", "a@example.org",
            "-o", f"mbox_write_locks={locks}"]


def deliver_lda(inst, locks, tag, lines):
    r = subprocess.run(lda_cmd(inst, locks), input=make_message(tag, lines),
                       capture_output=True, timeout=120)
    return r


def journal_path(path):
    d, name = os.path.split(path)
    return os.path.join(d, f".{name}.loft-append.lock")


def kill_mid_append(pid, path, orig_size, running):
    """SIGSTOP pid as soon as path grew past orig_size, then SIGKILL it.
    Stopping first keeps this independent of the machine's speed. True when
    it died holding the append (its journal is left), False when it had
    finished first (running() false, or the append complete)."""
    def grew():
        try:
            return os.path.getsize(path) > orig_size or not running()
        except FileNotFoundError:
            return not running()
    assert wait_for(grew, timeout=120, interval=0.0005)
    if not running():
        return False
    os.kill(pid, signal.SIGSTOP)
    held = os.path.exists(journal_path(path))
    os.kill(pid, signal.SIGKILL)
    return held


BIG_LINES = 400000  # about 30 MB: the append takes a while
ATTEMPTS = 4


@needs_root
@pytest.mark.parametrize("locks", ["dotlock fcntl", "dotlock", "fcntl", "flock", "lockf"])
def test_lda_killed_mid_append_is_repaired(inst, locks):
    inst.write_conf(mail_location=LOCATION,
                    extra="mail_fsync = never\nmail_max_lock_timeout = 60 s\n")
    path = inbox_path(inst)
    for tag in ("before1", "before2"):
        r = deliver_lda(inst, locks, tag, 50)
        assert r.returncode == 0, r.stderr
    orig = os.path.getsize(path)
    big = make_message("huge", BIG_LINES)

    for _ in range(ATTEMPTS):
        proc = subprocess.Popen(lda_cmd(inst, locks), stdin=subprocess.PIPE,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        feeder = threading.Thread(target=_feed, args=(proc, big))
        feeder.start()
        killed = kill_mid_append(proc.pid, path, orig, lambda: proc.poll() is None)
        proc.wait(timeout=60)
        feeder.join(timeout=120)
        if killed:
            break
        # it finished before it could be stopped: take its message out
        with open(path, "r+b") as f:
            f.truncate(orig)
    else:
        pytest.fail("the writer always finished before it could be stopped")
    assert os.path.getsize(path) > orig  # the half message is there
    if "dotlock" in locks:
        assert os.path.exists(path + ".lock")  # left by the dead writer

    # the next delivery repairs and goes on, well within the lock timeout
    # (the dead writer's dotlock would be stale only after 2 minutes)
    r = deliver_lda(inst, locks, "after", 50)
    assert r.returncode == 0, r.stderr
    check_mbox(path, {"before1", "before2", "after"}, lambda tag: 50)
    assert not os.path.exists(path + ".lock")
    assert not os.path.exists(journal_path(path))
    assert "truncated" in inst.log("loft.log") + inst.log("loft-info.log")


def _feed(proc, data):
    try:
        proc.stdin.write(data)
        proc.stdin.close()
    except OSError:
        pass  # killed before it read everything


@needs_root
def test_lmtp_killed_mid_append_is_repaired(inst):
    d = Daemon(inst, extra=f"mail_location = {LOCATION}\n"
                           "mail_fsync = never\nmail_max_lock_timeout = 60 s\n",
               service_extra="process_limit = 1\nprocess_min_avail = 1\n")
    path = inbox_path(inst)
    big = make_message("huge", BIG_LINES)
    try:
        d.start()
        with smtplib.LMTP("127.0.0.1", d.port) as s:
            s.ehlo("client")
            assert s.sendmail("a@example.org", [USER], make_message("before", 50)) == {}
        orig = os.path.getsize(path)
        for _ in range(ATTEMPTS):
            [worker] = d.children()
            client = smtplib.LMTP("127.0.0.1", d.port)
            client.ehlo("client")
            sender = threading.Thread(target=_send_ignoring_errors, args=(client, big))
            sender.start()
            killed = kill_mid_append(worker, path, orig, sender.is_alive)
            sender.join(timeout=120)
            if killed:
                break
            # it finished before it could be stopped: take its message out
            assert wait_for(lambda: len(d.children()) == 1, timeout=60)
            with open(path, "r+b") as f:
                f.truncate(orig)
        else:
            pytest.fail("the writer always finished before it could be stopped")
        # loftd replaces the killed process; the next delivery repairs
        assert wait_for(lambda: d.children() not in ([], [worker]), timeout=60)
        with smtplib.LMTP("127.0.0.1", d.port) as s:
            s.ehlo("client")
            assert s.sendmail("a@example.org", [USER], make_message("after", 50)) == {}
        check_mbox(path, {"before", "after"}, lambda tag: 50)
        assert not os.path.exists(path + ".lock")
        assert not os.path.exists(journal_path(path))
    finally:
        d.stop()


def _send_ignoring_errors(client, msg):
    try:
        client.sendmail("a@example.org", [USER], msg)
    except (smtplib.SMTPException, OSError):
        pass  # the server process is killed under it
    try:
        client.close()
    except OSError:
        pass
