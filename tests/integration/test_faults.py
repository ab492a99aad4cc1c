"""Faults injected into a running loft: helper processes stopped under
load (loft-stats, loft-log), compared with the same load on a healthy
instance in the same test, as throughput ratios (never absolute times)."""
import os
import signal
import time

from conftest import Daemon, needs_root
from test_lmtp import MSG, Raw

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
