"""Observability that survives: counters stay monotonic and debug masks
stay set across a loft-stats crash (kill -9, loftd starts a new one) and
reloads; the first scrape after start already has every service and every
documented label combination."""
import os
import signal
import subprocess
import time

from conftest import binary, needs_root, wait_for
from test_lmtp import MSG, Raw
from test_stats import StatsDaemon

pytestmark = needs_root


def deliver(sd, count):
    c = Raw(("127.0.0.1", sd.port))
    c.reply()
    c.cmd("LHLO continuity")
    for _ in range(count):
        c.cmd("MAIL FROM:<a@example.org>")
        c.cmd("RCPT TO:<user0@example.com>")
        c.cmd("DATA")
        c.send(MSG + b".\r\n")
        assert c.line().endswith(" Saved")
    c.cmd("QUIT")
    c.close()


def saved(sd):
    return sd.metric("loft_deliveries_total", protocol="lmtp", result="saved")


def restarted(sd, old_pid):
    """whether loft-stats runs again under another pid (one look: between
    two, the new one may not be there yet)"""
    pids = sd.children("loft-stats")
    return bool(pids) and pids[0] != old_pid


def test_first_scrape_is_complete(inst):
    sd = StatsDaemon(inst)
    sd.start()
    try:
        # the very first scrape that answers: no waiting for a timer
        text = None
        for _ in range(200):
            status, _, text = sd.get("/metrics")
            if status == 200:
                break
            time.sleep(0.05)
        for series in ('loft_service_processes{service="lmtp"}',
                       'loft_service_processes{service="stats"}',
                       'loft_sessions_total{service="lmtp"}',
                       'loft_sessions_total{service="lda"}',
                       'loft_deliveries_total{protocol="lda",result="tempfail"}'):
            assert series in text, series
    finally:
        sd.stop()


def test_counters_and_debug_masks_survive_crash_and_reload(inst):
    sd = StatsDaemon(inst)
    sd.start()
    try:
        deliver(sd, 3)
        assert wait_for(lambda: saved(sd) == 3)
        status, body = sd.post("/api/v1/debug", {"user": "user0*", "on": True})
        assert status == 200
        stats_pid = sd.children("loft-stats")[0]
        os.kill(stats_pid, signal.SIGKILL)
        assert wait_for(lambda: restarted(sd, stats_pid), timeout=20)
        # the new loft-stats goes on from 3, never from 0
        assert wait_for(lambda: saved(sd) is not None, timeout=20)
        assert saved(sd) == 3
        deliver(sd, 2)
        assert wait_for(lambda: saved(sd) == 5)
        status, body = sd.post("/api/v1/debug", {"user": "nobody*", "on": False})
        assert status == 200 and body["debug_users"] == ["user0*"]
        # reloads: the counters and the reload count only grow
        for i in range(3):
            r = subprocess.run([binary("loftd"), "-c", inst.conf, "reload"],
                               capture_output=True)
            assert r.returncode == 0, r.stderr
            assert wait_for(lambda: sd.metric("loft_config_reloads_total",
                                              result="ok") == i + 1, timeout=20)
            assert saved(sd) == 5
        deliver(sd, 1)
        assert wait_for(lambda: saved(sd) == 6)
    finally:
        sd.stop()


def test_healthz_does_not_flap_through_reloads(inst):
    """Polled all through three reloads (each starts a new loft-stats),
    /healthz of a healthy instance answers 200 every time it answers."""
    sd = StatsDaemon(inst)
    sd.start()
    try:
        assert wait_for(lambda: sd.get("/healthz")[0] == 200)
        import threading
        seen, stop = [], threading.Event()

        def poll():
            while not stop.is_set():
                try:
                    st, _, body = sd.get("/healthz")
                    seen.append(st if st == 200 else (st, body))
                except OSError:
                    seen.append("refused")
                time.sleep(0.02)
        t = threading.Thread(target=poll)
        t.start()
        for i in range(3):
            r = subprocess.run([binary("loftd"), "-c", inst.conf, "reload"],
                               capture_output=True)
            assert r.returncode == 0, r.stderr
            assert wait_for(lambda: sd.metric("loft_config_reloads_total",
                                              result="ok") == i + 1, timeout=20)
            time.sleep(0.5)
        stop.set()
        t.join()
        assert seen and set(seen) == {200}, seen
    finally:
        sd.stop()


def test_concurrency_slots_survive_a_loft_stats_crash(inst):
    """A transaction holding a user's slot keeps it across a kill -9 of
    loft-stats: loft-lmtp takes its slots again in the new one."""
    sd = StatsDaemon(inst, extra="lmtp_user_concurrency_limit = 1\n")
    sd.start()
    try:
        held = Raw(("127.0.0.1", sd.port))
        held.reply()
        held.cmd("MAIL FROM:<a@example.org>")
        assert held.cmd("RCPT TO:<user0@example.com>") == ["250 2.1.5 OK"]
        stats_pid = sd.children("loft-stats")[0]
        os.kill(stats_pid, signal.SIGKILL)
        assert wait_for(lambda: restarted(sd, stats_pid), timeout=20)
        assert wait_for(lambda: sd.get("/healthz")[0] == 200, timeout=20)

        def second():
            c = Raw(("127.0.0.1", sd.port))
            c.reply()
            c.cmd("MAIL FROM:<a@example.org>")
            reply = c.cmd("RCPT TO:<user0@example.com>")
            c.close()
            return reply
        # once the slot is back, the limit holds again
        assert wait_for(lambda: second() == [
            "451 4.3.0 <user0@example.com> Too many concurrent deliveries for user"],
            timeout=10)
        held.cmd("DATA")
        held.send(MSG + b".\r\n")
        assert held.line().endswith(" Saved")
        assert wait_for(lambda: second() == ["250 2.1.5 OK"], timeout=10)
    finally:
        sd.stop()
