"""Faults injected into a running loft: helper processes stopped under
load (loft-stats, loft-log), compared with the same load on a healthy
instance in the same test, as throughput ratios (never absolute times);
full file systems (small tmpfs mounts) for mail_temp_dir and the mail
itself; refusals at the end of DATA. Every reply that ends a recipient's
chance must leave a delivery record: log line, journal entry, metric."""
import contextlib
import os
import signal
import subprocess
import time

from conftest import Daemon, needs_root, wait_for
from test_lmtp import MSG, Raw
from test_stats import StatsDaemon

pytestmark = needs_root

RCPTS = ["user0@example.com", "user1@example.com", "user0+a@example.com",
         "user1+b@example.com", "user0+c@example.com"]


def deliver_batch(daemon, count):
    """count messages to five recipients each over one LMTP connection,
    every reply checked: messages per second"""
    start = time.monotonic()
    c = Raw(("127.0.0.1", daemon.port))
    c.reply()
    c.cmd("LHLO faults")
    for _ in range(count):
        c.send(b"MAIL FROM:<sender@example.org>\r\n" +
               b"".join(f"RCPT TO:<{r}>\r\n".encode() for r in RCPTS) + b"DATA\r\n")
        assert [c.line() for _ in range(len(RCPTS) + 2)] == \
            ["250 2.1.0 OK"] + ["250 2.1.5 OK"] * len(RCPTS) + ["354 OK"]
        c.send(MSG + b".\r\n")
        for r in RCPTS:
            assert c.line().startswith(f"250 2.0.0 <{r}> ")
    c.cmd("QUIT")
    c.close()
    return count / (time.monotonic() - start)


def stopped(pid):
    """a context that keeps pid SIGSTOPped"""
    class Stopped:
        def __enter__(self):
            os.kill(pid, signal.SIGSTOP)

        def __exit__(self, *exc):
            os.kill(pid, signal.SIGCONT)
    return Stopped()


def test_stopped_stats_and_log_cost_delivery_nothing(inst):
    """lmtp_user_concurrency_limit is on (the default): with loft-stats
    stopped, the first unanswered question opens a breaker and the next
    RCPTs do not wait 500 ms each; with loft-log stopped, lines overflow
    to a direct write. Each run's throughput stays within a small factor
    of the healthy run measured right before it."""
    d = Daemon(inst)
    d.start()
    try:
        deliver_batch(d, 5)  # warm-up: processes, userdb, maildirs
        for name in ("loft-stats", "loft-log"):
            pids = d.children(name)
            assert len(pids) == 1, name
            healthy = deliver_batch(d, 30)
            with stopped(pids[0]):
                faulty = deliver_batch(d, 30)
            # one RCPT waiting 500 ms each made this 50x slower
            assert faulty > healthy / 4, (name, healthy, faulty)
        # user0 is three of the five recipients
        assert len(inst.new_files("user0@example.com")) == 3 * (5 + 4 * 30)
    finally:
        d.stop()


@contextlib.contextmanager
def tmpfs(path, size):
    """a tmpfs of size mounted on path (made), unmounted afterwards"""
    os.makedirs(path, exist_ok=True)
    subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size},mode=0777",
                    "tmpfs", path], check=True)
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", path], check=False)


def fill(path):
    """fill the file system of path to the last byte"""
    fd = os.open(os.path.join(path, "filler"), os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        while True:
            os.write(fd, b"\0" * 4096)
    except OSError:
        pass
    finally:
        os.close(fd)


def one_message(d, rcpts, body):
    """MAIL, the RCPTs, DATA and body: the replies after the data"""
    c = Raw(("127.0.0.1", d.port))
    c.reply()
    c.cmd("LHLO faults")
    c.cmd("MAIL FROM:<faults@example.org>")
    for r in rcpts:
        assert c.cmd(f"RCPT TO:<{r}>") == ["250 2.1.5 OK"]
    assert c.cmd("DATA") == ["354 OK"]
    c.send(body + b".\r\n")
    lines = [c.line() for _ in rcpts]
    assert c.cmd("NOOP") == ["250 2.0.0 OK"]
    c.close()
    return lines


BIG = b"Subject: big\r\nMessage-ID: <big@example.org>\r\n\r\n" + \
    (b"x" * 1000 + b"\r\n") * 600


def test_full_mail_temp_dir_is_a_recorded_tempfail(inst):
    """A message that spills to a full mail_temp_dir: 451 for every
    recipient, nothing stored, and each refusal is in the log, the
    journal and the tempfail counter the shipped alert watches."""
    spool = os.path.join(inst.root, "spool")
    with tmpfs(spool, "64k"):
        fill(spool)
        sd = StatsDaemon(inst, extra=f"mail_temp_dir = {spool}\n")
        sd.start()
        try:
            lines = one_message(sd, ["user0@example.com", "user1@example.com"], BIG)
            assert lines == [f"451 4.3.0 <{r}> Temporary failure spooling the message"
                             for r in ("user0@example.com", "user1@example.com")]
            assert inst.new_files("user0@example.com") == []

            def journal():
                return sd.json("/api/v1/deliveries?result=tempfail")
            assert wait_for(lambda: len(journal()) == 2)
            assert {r["rcpt"] for r in journal()} == {"user0@example.com", "user1@example.com"}
            assert all(r["code"] == 451 for r in journal())
            assert sd.metric("loft_deliveries_total", protocol="lmtp", result="tempfail") == 2
            # tempfails are logged at error level, in log_path
            # (written by loft-log, which the journal does not wait for)
            assert wait_for(lambda: inst.log("loft.log").count(
                "msgid=unspecified: Temporary failure spooling the message") == 2), \
                inst.log("loft.log")
        finally:
            sd.stop()


def test_size_refusal_and_too_many_recipients_are_recorded(inst):
    sd = StatsDaemon(inst, extra="lmtp_max_message_size = 10k\nlmtp_max_recipients = 1\n")
    sd.start()
    try:
        c = Raw(("127.0.0.1", sd.port))
        c.reply()
        c.cmd("LHLO faults")
        c.cmd("MAIL FROM:<faults@example.org>")
        assert c.cmd("RCPT TO:<user0@example.com>") == ["250 2.1.5 OK"]
        assert c.cmd("RCPT TO:<user1@example.com>") == ["452 4.5.3 Too many recipients"]
        c.cmd("DATA")
        c.send(BIG + b".\r\n")
        assert c.line() == ("552 5.3.4 <user0@example.com> "
                            "Message size exceeds fixed maximum message size")
        assert wait_for(lambda: sd.metric("loft_rcpt_rejected_total", reason="size") == 1)
        rejected = sd.json("/api/v1/deliveries?result=rejected")
        assert [(r["rcpt"], r["code"]) for r in rejected] == [("user0@example.com", 552)]
        deferred = sd.json("/api/v1/deliveries?result=tempfail")
        assert [(r["rcpt"], r["code"]) for r in deferred] == [("user1@example.com", 452)]
        assert sd.metric("loft_rcpt_rejected_total", reason="other") == 1
    finally:
        sd.stop()


def test_full_mail_file_system_tempfails_and_leaves_nothing(inst):
    """The mail itself on a full file system: 452 4.3.1, a recorded
    tempfail, no file in new/ or tmp/; once there is room the same
    message is delivered."""
    with tmpfs(inst.vmail, "2m"):
        os.chown(inst.vmail, 65534, 65534)
        sd = StatsDaemon(inst)
        sd.start()
        try:
            assert one_message(sd, ["user0@example.com"], MSG)[0].endswith(" Saved")
            fill(inst.vmail)
            lines = one_message(sd, ["user0@example.com"], BIG)
            assert lines[0].startswith("452 4.3.1 <user0@example.com> "), lines
            assert len(inst.new_files("user0@example.com")) == 1
            assert inst.tmp_files("user0@example.com") == []
            assert wait_for(lambda: sd.metric("loft_deliveries_total", protocol="lmtp",
                                              result="tempfail") == 1)
            os.unlink(os.path.join(inst.vmail, "filler"))
            assert one_message(sd, ["user0@example.com"], BIG)[0].endswith(" Saved")
            assert len(inst.new_files("user0@example.com")) == 2
        finally:
            sd.stop()


def test_full_log_disk_counts_failures_and_never_leaves_half_a_line(inst):
    """Logs on a full file system: mail still flows, the lost lines are
    counted in loft_log_write_failures_total and named in the recent
    errors, and the log file holds whole JSON records only (a write cut
    at the last free byte is cut back). With room again, logging goes on."""
    with tmpfs(inst.logdir, "64k"):
        sd = StatsDaemon(inst, extra="log_format = json\n")
        sd.start()
        try:
            assert one_message(sd, ["user0@example.com"], MSG)[0].endswith(" Saved")
            fill(inst.logdir)
            for _ in range(20):
                assert one_message(sd, ["user0@example.com"], MSG)[0].endswith(" Saved")
            assert len(inst.new_files("user0@example.com")) == 21
            assert wait_for(lambda: (sd.metric("loft_log_write_failures_total") or 0) > 0)
            errors = sd.json("/api/v1/errors")
            assert any("could not be written" in e["msg"] and
                       "No space left on device" in e["msg"] and e["service"] == "log"
                       for e in errors), errors

            def whole_records():
                import json
                for name in ("loft-info.log", "loft.log"):
                    text = inst.log(name)
                    assert text == "" or text.endswith("\n"), text[-200:]
                    for line in text.splitlines():
                        json.loads(line)
            whole_records()
            os.unlink(os.path.join(inst.logdir, "filler"))
            before = inst.log("loft-info.log").count('"saved"')
            assert one_message(sd, ["user0@example.com"], MSG)[0].endswith(" Saved")
            assert wait_for(lambda: inst.log("loft-info.log").count('"saved"') > before)
            whole_records()
        finally:
            sd.stop()


def test_lda_reports_wait_in_the_backlog_while_stats_is_stopped(inst):
    """loft-lda runs while loft-stats is stopped: each run's connection
    waits, with its events, in the stats-writer backlog loftd holds, and
    is counted once loft-stats goes on. More runs than the old 128-deep
    backlog, none of them lost."""
    sd = StatsDaemon(inst)
    sd.start()
    try:
        runs = 200
        with stopped(sd.children("loft-stats")[0]):
            for _ in range(runs):
                r = inst.lda("-d", "user0@example.com")
                assert r.returncode == 0, r.stderr
        assert wait_for(lambda: sd.metric("loft_deliveries_total", protocol="lda",
                                          result="saved") == runs, timeout=60)
        assert sd.metric("loft_stats_events_dropped_total") == 0
    finally:
        sd.stop()


def test_lda_reports_made_while_stats_restarts_are_counted(inst):
    """loft-stats killed (not only stopped) while loft-lda runs report:
    their connections wait in the stats-writer backlog that loftd keeps
    across the restart, and the new loft-stats reads and counts them. No
    run is lost between the kill and the restart."""
    sd = StatsDaemon(inst)
    sd.start()
    try:
        runs = 40
        old = sd.stats_pid()
        os.kill(old, signal.SIGSTOP)
        for _ in range(runs // 2):
            r = inst.lda("-d", "user0@example.com")
            assert r.returncode == 0, r.stderr
        # dies holding unaccepted connections; the next runs come while
        # loftd notices and starts another
        os.kill(old, signal.SIGKILL)
        for _ in range(runs - runs // 2):
            r = inst.lda("-d", "user0@example.com")
            assert r.returncode == 0, r.stderr
        assert wait_for(lambda: sd.stats_pid() not in (None, old), timeout=20)
        assert wait_for(lambda: sd.metric("loft_deliveries_total", protocol="lda",
                                          result="saved") == runs, timeout=60), \
            sd.metric("loft_deliveries_total", protocol="lda", result="saved")
        # (loft_stats_events_dropped_total may count a report of loftd's
        # or loft-lmtp's own long-lived connections cut by the kill: lost,
        # but counted, as the contract asks)
        assert len(inst.new_files("user0@example.com")) == runs
        # no run had to say its events were lost
        assert "not counted" not in inst.log("loft.log") + inst.log("loft-info.log")
    finally:
        sd.stop()
