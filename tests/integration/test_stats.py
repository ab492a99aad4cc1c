"""loft-stats end to end: counters after real deliveries, Prometheus and
OpenMetrics output (promtool), who/kick over HTTP with and without the
key, the per-user concurrency limit, the journal, recent errors, run-time
debug, reload over HTTP, loftd's process_* figures per service and the
last good reload's time, and loft-stats dying under load without losing
mail. The HTTP endpoint's defences: every API call needs the key (failures
counted and logged, rate-limited), bodies are JSON whatever their
Content-Type, a forged Host is refused (DNS rebinding), and slow clients
or a reload waiting for a stopped loftd do not keep /metrics from
answering."""
import json
import os
import re
import shutil
import signal
import smtplib
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.parse
import urllib.request

import pytest

from conftest import Daemon, binary, free_port, needs_root, wait_for
from test_lmtp import MSG, Raw

KEY = "s3cret-key"


class StatsDaemon(Daemon):
    def __init__(self, inst, extra="", key=KEY):
        self.http_port = free_port()
        super().__init__(inst, extra=extra + f"""
            http_api_key = {key}
            service stats {{
              inet_listener http {{
                address = 127.0.0.1
                port = {self.http_port}
              }}
            }}
            """)

    def url(self, path):
        return f"http://127.0.0.1:{self.http_port}{path}"

    def get(self, path, headers=None, key=KEY, timeout=20):
        headers = dict(headers or {})
        if key is not None:
            headers.setdefault("Authorization", f"Bearer {key}")
        req = urllib.request.Request(self.url(path), headers=headers)
        try:
            with urllib.request.urlopen(req, timeout=timeout) as r:
                return r.status, r.headers, r.read().decode()
        except urllib.error.HTTPError as e:
            return e.code, e.headers, e.read().decode()

    def post(self, path, body=None, key=KEY):
        data = json.dumps(body).encode() if body is not None else b""
        headers = {"Content-Type": "application/json"}
        if key is not None:
            headers["Authorization"] = f"Bearer {key}"
        req = urllib.request.Request(self.url(path), data=data, headers=headers, method="POST")
        try:
            with urllib.request.urlopen(req, timeout=30) as r:
                return r.status, json.loads(r.read().decode() or "null")
        except urllib.error.HTTPError as e:
            return e.code, json.loads(e.read().decode() or "null")

    def json(self, path):
        status, _, body = self.get(path)
        assert status == 200, (status, body)
        return json.loads(body)

    def metric(self, name, **labels):
        _, _, text = self.get("/metrics")
        want = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
        for line in text.splitlines():
            if line.startswith("#"):
                continue
            m = re.match(r"^([a-z_]+)(?:\{(.*)\})? (\S+)$", line)
            if not m or m.group(1) != name:
                continue
            got = ",".join(sorted((m.group(2) or "").split(","))) if m.group(2) else ""
            if got == want:
                return float(m.group(3))
        return None

    def stats_pid(self):
        out = subprocess.run(["pgrep", "-P", str(self.proc.pid), "-f", "loft-stats"],
                             capture_output=True, text=True)
        pids = [int(p) for p in out.stdout.split()]
        return pids[0] if pids else None

    def start(self):
        super().start()
        assert wait_for(lambda: self.get("/healthz")[0] == 200, timeout=15), self.get("/healthz")
        return self


@pytest.fixture
def sd(inst):
    d = StatsDaemon(inst)
    yield d
    d.stop()


def deliver(d, rcpts, msg=MSG):
    with smtplib.LMTP("127.0.0.1", d.port) as s:
        s.ehlo("t")
        s.mail("sender@example.org")
        accepted = [r for r in rcpts if s.rcpt(r)[0] == 250]
        if not accepted:
            return []
        s.data(msg)
        for _ in accepted[1:]:
            s.getreply()
    return accepted


@needs_root
def test_counters_exact_and_promtool(sd, inst):
    sd.start()
    for _ in range(5):
        deliver(sd, ["user0@example.com"])
    for i in range(3):
        deliver(sd, [f"nobody{i}@example.com"])
    for _ in range(2):
        r = subprocess.run([binary("loft-lda"), "-c", inst.conf, "-d", "user1@example.com"],
                           input=MSG, capture_output=True, timeout=30)
        assert r.returncode == 0, r.stderr
    assert wait_for(lambda: sd.metric("loft_deliveries_total", protocol="lmtp", result="saved") == 5)
    assert wait_for(lambda: sd.metric("loft_deliveries_total", protocol="lda", result="saved") == 2)
    # loft-lmtp sends a refusal with its next batch (25 ms), loft-lda at
    # once: the LDA's count may come first
    assert wait_for(lambda: sd.metric("loft_deliveries_total", protocol="lmtp",
                                      result="rejected") == 3, timeout=5)
    assert sd.metric("loft_rcpt_rejected_total", reason="unknown_user") == 3
    assert sd.metric("loft_delivery_duration_seconds_count", protocol="lmtp") == 5
    assert sd.metric("loft_delivered_bytes_total", protocol="lmtp") > 5 * len(MSG)
    assert sd.metric("loft_sessions_total", service="lmtp") >= 8
    assert sd.metric("loft_service_processes", service="lmtp") >= 1
    assert sd.metric("loft_build_info", version="0.1.0") == 1
    status, headers, text = sd.get("/metrics")
    assert headers["Content-Type"].startswith("text/plain; version=0.0.4")
    promtool = shutil.which("promtool")
    if promtool is None:
        pytest.skip("promtool (Debian package prometheus) not installed")
    r = subprocess.run([promtool, "check", "metrics"], input=text.encode(), capture_output=True)
    assert r.returncode == 0, r.stdout + r.stderr
    status, headers, text = sd.get("/metrics", {"Accept": "application/openmetrics-text; version=1.0.0"})
    assert headers["Content-Type"].startswith("application/openmetrics-text")
    assert text.endswith("# EOF\n")


def process_figures(text):
    """{service: {metric: value}} of the process_* series in text."""
    figures = {}
    for m in re.finditer(r'^(process_[a-z_]+)\{service="([a-z]+)"\} (\S+)$', text, re.M):
        figures.setdefault(m.group(2), {})[m.group(1)] = float(m.group(3))
    return figures


@needs_root
def test_process_metrics_and_reload_time(sd, inst):
    """loftd reads /proc for itself and every child: process_* per service
    with plausible values, and the last good reload's time moves on."""
    started = time.time()
    sd.start()
    deliver(sd, ["user0@example.com"])
    want = {"master", "lmtp", "stats", "log"}

    def plausible():
        figures = process_figures(sd.get("/metrics")[2])
        return want <= set(figures) and all(
            figures[s].get("process_resident_memory_bytes", 0) > 0 for s in want)
    # a process caught in its exec reads as empty until the next reading
    assert wait_for(plausible, timeout=15), sd.get("/metrics")[2]
    _, _, text = sd.get("/metrics")
    figures = process_figures(text)
    for service in want:
        f = figures[service]
        assert f.keys() == {"process_cpu_seconds_total", "process_resident_memory_bytes",
                            "process_open_fds", "process_start_time_seconds"}, (service, f)
        # the processes started with this test, loftd first
        assert started - 5 <= f["process_start_time_seconds"] <= time.time(), (service, f)
        assert f["process_start_time_seconds"] >= figures["master"]["process_start_time_seconds"] - 1
        assert f["process_resident_memory_bytes"] > 0, (service, f)
        assert f["process_open_fds"] > 0, (service, f)
        assert 0 <= f["process_cpu_seconds_total"] < time.time() - started + 5, (service, f)
    # no pid or other unbounded label
    assert not re.search(r"^process_\w+\{[^}]*pid=", text, re.M)
    first = sd.metric("loft_config_last_reload_success_timestamp_seconds")
    assert first is not None and started - 5 <= first <= time.time()
    promtool = shutil.which("promtool")
    if promtool is not None:
        r = subprocess.run([promtool, "check", "metrics"], input=text.encode(), capture_output=True)
        assert r.returncode == 0, r.stdout + r.stderr

    time.sleep(1.1)
    r = subprocess.run([binary("loftd"), "-c", inst.conf, "reload"], capture_output=True)
    assert r.returncode == 0, r.stderr

    def reloaded():
        t = sd.metric("loft_config_last_reload_success_timestamp_seconds")
        return t is not None and t >= first + 1
    assert wait_for(reloaded, timeout=20)
    assert sd.metric("loft_config_last_reload_success_timestamp_seconds") <= time.time()
    # a failed reload does not move it
    good = sd.metric("loft_config_last_reload_success_timestamp_seconds")
    with open(inst.conf, "a") as f:
        f.write("no_such_setting = 1\n")
    # (`loftd reload` reads the config to find loftd: ask over HTTP)
    status, body = sd.post("/api/v1/reload")
    assert status == 400, body
    assert wait_for(lambda: sd.metric("loft_config_reloads_total", result="failed") == 1, timeout=20)
    assert sd.metric("loft_config_last_reload_success_timestamp_seconds") == good
    # the new processes (a reload replaces them) are still measured
    assert wait_for(lambda: want <= set(process_figures(sd.get("/metrics")[2])), timeout=15)


@needs_root
def test_who_kick_with_and_without_key(sd, inst):
    sd.start()
    c = Raw(("127.0.0.1", sd.port))
    c.reply()
    c.cmd("LHLO held.example.org")
    c.cmd("MAIL FROM:<a@b.c>")
    c.cmd("RCPT TO:<user0@example.com>")

    def held():
        who = sd.json("/api/v1/who?per_session=1")
        return [w for w in who if w["user"] == "user0@example.com"]
    assert wait_for(lambda: held() and held()[0]["state"] == "RCPT TO")
    s = held()[0]
    assert s["ip"] == "127.0.0.1" and s["service"] == "lmtp"
    grouped = sd.json("/api/v1/who?user=user0*")
    assert grouped[0]["username"] == "user0@example.com" and grouped[0]["connections"] == 1
    assert sd.json("/api/v1/who?user=nomatch*") == []
    # without the key: refused, the session stays
    status, body = sd.post("/api/v1/kick", {"user": "user0@example.com"}, key=None)
    assert status == 401 and "error" in body
    status, body = sd.post("/api/v1/kick", {"user": "user0@example.com"}, key="wrong")
    assert status == 401
    assert c.cmd("NOOP") == ["250 2.0.0 OK"]
    # with the key: 421 4.3.2
    status, body = sd.post("/api/v1/kick", {"user": "user0*"})
    assert status == 200 and body["count"] == 1
    assert body["kicked"][0]["session"] == s["session"]
    assert c.line() == "421 4.3.2 testhost Session terminated by administrator"
    assert c.closed()
    assert wait_for(lambda: held() == [])
    assert sd.metric("loft_kicks_total") == 1
    status, body = sd.post("/api/v1/kick", {"ip": "10.0.0.0/8"})
    assert status == 200 and body["count"] == 0
    status, body = sd.post("/api/v1/kick", {"bogus": 1})
    assert status == 400


def open_transaction(d, data=False):
    """an LMTP session with two accepted recipients, in DATA when data:
    (client, session id)"""
    c = Raw(("127.0.0.1", d.port))
    c.reply()
    c.cmd("LHLO t")
    assert c.cmd("MAIL FROM:<sender@example.org>")[0].startswith("250")
    for user in ("user0@example.com", "user1@example.com"):
        assert c.cmd(f"RCPT TO:<{user}>")[0].startswith("250")
    if data:
        assert c.cmd("DATA")[0].startswith("354")
        c.send(b"Subject: cut short\r\n\r\nhalf a")
    state = "DATA" if data else "RCPT TO"

    def sessions():
        return [s["session"] for s in d.json("/api/v1/who?per_session=1")
                if s["service"] == "lmtp" and s["state"] == state]
    assert wait_for(sessions)
    sid, = sessions()
    return c, sid


def session_records(d, sid):
    """the journal's records of session sid (ids may hold + and /)"""
    return d.json("/api/v1/deliveries?session=" + urllib.parse.quote(sid, safe=""))


def ended_by_421(d, inst, sid, text):
    """the two recipients of session sid have a recorded 421 outcome"""
    recs = session_records(d, sid)
    assert sorted(r["rcpt"] for r in recs) == ["user0@example.com", "user1@example.com"], recs
    for r in recs:
        assert (r["result"], r["code"], r["enhanced_code"], r["text"], r["reason"]) == \
            ("tempfail", 421, "4.3.2", text, "other"), r
    # a tempfail's delivery line is an error, in log_path (loft-log
    # writes it in its own time)
    def lines():
        return [line for line in inst.log("loft.log").splitlines()
                if sid in line and line.endswith(f": {text}")]
    assert wait_for(lambda: len(lines()) == 2), inst.log("loft.log")
    assert all(": Error: msgid=" in line for line in lines()), lines()


@needs_root
def test_kick_records_the_open_transactions_recipients(sd, inst):
    """Issue 9 point 5: a 421 that ends a transaction ends its accepted
    recipients' chance, so each gets an outcome through the one path (log
    line, journal, loft_deliveries_total{result="tempfail"}); before, a
    kick after RCPT or during DATA left no trace of them."""
    sd.start()
    for data in (False, True):
        c, sid = open_transaction(sd, data=data)
        status, body = sd.post("/api/v1/kick", {"session": sid})
        assert status == 200 and body["count"] == 1, body
        assert c.line().startswith("421 4.3.2 ")
        assert c.closed()
        c.close()
        assert wait_for(lambda: len(session_records(sd, sid)) == 2)
        ended_by_421(sd, inst, sid, "Session terminated by administrator")
    assert sd.metric("loft_deliveries_total", protocol="lmtp", result="tempfail") == 4
    assert not sd.metric("loft_deliveries_total", protocol="lmtp", result="saved")
    # nothing was stored
    assert inst.new_files("user0@example.com") == inst.new_files("user1@example.com") == []


@needs_root
def test_shutdown_records_the_open_transactions_recipients(sd, inst):
    """Issue 9 point 5: loftd stopped (SIGTERM twice: sessions end now)
    while a transaction holds two recipients: each has a recorded 421
    outcome, in the log and in the journal loft-stats keeps on disk."""
    sd.start()
    c, sid = open_transaction(sd)
    sd.proc.send_signal(signal.SIGTERM)
    assert wait_for(lambda: "finishing sessions in progress" in inst.log())
    sd.proc.send_signal(signal.SIGTERM)
    assert c.line().startswith("421 4.3.2 ")
    c.close()
    sd.proc.wait(timeout=30)
    sd.stop()
    sd.start()
    assert wait_for(lambda: len(session_records(sd, sid)) == 2)
    ended_by_421(sd, inst, sid, "Service shutting down")
    # counters survive a restart
    assert sd.metric("loft_deliveries_total", protocol="lmtp", result="tempfail") == 2


@needs_root
def test_idle_timeout_records_the_open_transactions_recipients(inst):
    """Issue 9 point 5: a client silent in DATA is cut off with 421 4.4.2;
    its accepted recipients are recorded with that outcome."""
    d = StatsDaemon(inst, extra="lmtp_client_idle_timeout = 1 s\n")
    try:
        d.start()
        c, sid = open_transaction(d, data=True)
        assert c.line() == "421 4.4.2 testhost Disconnected for inactivity"
        c.close()
        assert wait_for(lambda: len(session_records(d, sid)) == 2)
        recs = session_records(d, sid)
        assert {(r["result"], r["code"], r["enhanced_code"], r["text"]) for r in recs} == \
            {("tempfail", 421, "4.4.2", "Disconnected for inactivity")}, recs
        assert d.metric("loft_deliveries_total", protocol="lmtp", result="tempfail") == 2
    finally:
        d.stop()


@needs_root
def test_too_many_invalid_commands_records_the_open_transactions_recipients(sd, inst):
    """Issue 9 point 5: the 421 after eleven invalid commands also ends
    the open transaction's recipients, each with a recorded outcome."""
    sd.start()
    c, sid = open_transaction(sd)
    for _ in range(10):
        assert c.cmd("BOGUS")[0].startswith("500 ")
    assert c.cmd("BOGUS")[0].startswith("421 4.7.0 ")
    c.close()
    assert wait_for(lambda: len(session_records(sd, sid)) == 2)
    recs = session_records(sd, sid)
    assert {(r["result"], r["code"], r["enhanced_code"], r["text"]) for r in recs} == \
        {("tempfail", 421, "4.7.0", "Too many invalid commands.")}, recs


@needs_root
def test_kick_disabled_without_configured_key(inst):
    d = StatsDaemon(inst, key="")
    try:
        d.start()
        status, body = d.post("/api/v1/kick", {"user": "*"}, key=None)
        assert status == 403 and "http_api_key" in body["error"]
    finally:
        d.stop()


@needs_root
def test_concurrency_limit_eleventh_gets_451(sd, inst):
    sd.start()
    held = []
    for _ in range(10):
        c = Raw(("127.0.0.1", sd.port))
        c.reply()
        c.cmd("MAIL FROM:<a@b.c>")
        assert c.cmd("RCPT TO:<user0@example.com>") == ["250 2.1.5 OK"]
        held.append(c)
    c = Raw(("127.0.0.1", sd.port))
    c.reply()
    c.cmd("MAIL FROM:<a@b.c>")
    assert c.cmd("RCPT TO:<user0@example.com>") == [
        "451 4.3.0 <user0@example.com> Too many concurrent deliveries for user"]
    assert c.cmd("RCPT TO:<user1@example.com>") == ["250 2.1.5 OK"]
    assert c.cmd("DATA") == ["354 OK"]
    c.send(MSG + b".\r\n")
    assert c.line().endswith(" Saved")
    assert wait_for(lambda: sd.metric("loft_rcpt_rejected_total", reason="concurrency") == 1)
    # one of the ten finishes: a slot is free again
    held[0].cmd("DATA")
    held[0].send(MSG + b".\r\n")
    assert held[0].line().endswith(" Saved")
    c.cmd("MAIL FROM:<a@b.c>")
    assert c.cmd("RCPT TO:<user0@example.com>") == ["250 2.1.5 OK"]


@needs_root
def test_journal_and_errors(sd, inst):
    sd.start()
    c = Raw(("127.0.0.1", sd.port))
    c.reply()
    c.cmd("MAIL FROM:<journal@example.org>")
    c.cmd("RCPT TO:<user0@example.com>")
    c.cmd("DATA")
    c.send(MSG + b".\r\n")
    sid = c.line().split()[3]

    def records():
        return sd.json("/api/v1/deliveries?user=user0*")
    assert wait_for(lambda: len(records()) == 1)
    r = records()[0]
    assert r["session"] == sid and r["result"] == "saved" and r["code"] == 250
    assert r["msgid"] == "<lmtp-1@example.org>" and r["envelope_from"] == "journal@example.org"
    assert sd.json("/api/v1/deliveries?msgid=%3Clmtp-1@example.org%3E")[0]["session"] == sid
    assert sd.json("/api/v1/deliveries?session=" + urllib.parse.quote(sid, safe=""))[0]["rcpt"] == "user0@example.com"
    assert sd.json("/api/v1/deliveries?result=tempfail") == []
    assert sd.json("/api/v1/deliveries?since=1h&limit=5")[0]["session"] == sid
    # provoke an error: the userdb goes away
    os.rename(inst.passwd, inst.passwd + ".away")
    c.cmd("MAIL FROM:<a@b.c>")
    assert c.cmd("RCPT TO:<user0@example.com>")[0].startswith("451 4.3.0")
    assert wait_for(lambda: any("passwd" in e["msg"] for e in sd.json("/api/v1/errors")))
    e = [e for e in sd.json("/api/v1/errors") if "passwd" in e["msg"]][0]
    assert e["level"] == "error" and e["service"] == "lmtp" and e["session"]
    assert sd.metric("loft_log_messages_total", level="error") >= 1


@needs_root
def test_runtime_debug_per_user(sd, inst):
    sd.start()
    status, body = sd.post("/api/v1/debug", {"user": "user0*", "on": True})
    assert status == 200 and body["debug_users"] == ["user0*"]
    time.sleep(0.3)
    deliver(sd, ["user0@example.com"])
    deliver(sd, ["user1@example.com"])
    # lines reach the file through loft-log: wait for the last delivery's
    assert wait_for(lambda: re.search(r"lmtp\(user1@example\.com\)<\d+><\S+>: Info: .*saved mail",
                                      inst.log()))
    log = inst.log()
    assert re.search(r"lmtp\(user0@example\.com\)<\d+><\S+>: Debug: ", log), log
    assert not re.search(r"lmtp\(user1@example\.com\)<\d+><\S+>: Debug: ", log)
    sd.post("/api/v1/debug", {"user": "user0*", "on": False})


@needs_root
def test_reload_over_http(sd, inst):
    sd.start()
    status, body = sd.post("/api/v1/reload")
    assert status == 200 and body == {"ok": True}

    def services():
        return {s["name"] for s in sd.json("/api/v1/services")["services"]}
    # the reload restarted loft-stats too: wait for loftd to report again
    assert wait_for(lambda: {"lmtp", "stats"} <= services(), timeout=20)
    assert sd.metric("loft_config_reloads_total", result="ok") == 1
    with open(inst.conf, "a") as f:
        f.write("no_such_setting = 1\n")
    status, body = sd.post("/api/v1/reload")
    assert status == 400 and re.match(re.escape(inst.conf) + r":\d+: ", body["error"]), body
    assert wait_for(lambda: sd.metric("loft_config_reloads_total", result="failed") == 1)
    assert wait_for(lambda: any(e["service"] == "master" and "reload failed" in e["msg"]
                                for e in sd.json("/api/v1/errors")))
    assert {"lmtp", "stats"} <= services(), sd.json("/api/v1/services")
    # /doveadm/v1 runs a batch in order around its (deferred) reload
    status, body = sd.post("/doveadm/v1", [["reload", {}, "r"], ["statsDump", {}, "s"]])
    assert status == 200, body
    assert body[0] == ["error", {"type": "exitCode", "exitCode": 75}, "r"]
    assert body[1][0] == "doveadmResponse" and body[1][2] == "s"


@needs_root
def test_garbage_on_stats_socket_is_counted(sd, inst):
    sd.start()
    pid = sd.stats_pid()
    before = sd.metric("loft_stats_events_dropped_total")
    s = socket.socket(socket.AF_UNIX)
    s.connect(os.path.join(inst.root, "run", "stats-writer"))
    s.sendall(b"\x00\x00\x00\x05garbage that is not protobuf")
    time.sleep(0.3)
    s.close()
    assert wait_for(lambda: sd.metric("loft_stats_events_dropped_total") > before)
    assert sd.stats_pid() == pid
    # loft-stats' own warning about it is among the recent errors
    assert wait_for(lambda: any(e["service"] == "stats" and "dropped" in e["msg"]
                                for e in sd.json("/api/v1/errors")))
    deliver(sd, ["user0@example.com"])
    assert wait_for(lambda: sd.metric("loft_deliveries_total", protocol="lmtp", result="saved") == 1)


@needs_root
def test_stats_killed_under_load_loses_nothing(sd, inst):
    src = shutil.which("smtp-source") or "/usr/sbin/smtp-source"
    if not os.path.exists(src):
        pytest.skip("smtp-source not installed")
    sd.start()
    load = subprocess.Popen([src, "-L", "-s", "5", "-m", "300", "-f", "a@b.c",
                             "-t", "user0@example.com", f"127.0.0.1:{sd.port}"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    time.sleep(0.3)
    old = sd.stats_pid()
    os.kill(old, signal.SIGKILL)
    assert load.wait(timeout=120) == 0, load.stderr.read()
    assert wait_for(lambda: len(inst.new_files("user0@example.com")) == 300)
    assert wait_for(lambda: sd.stats_pid() not in (None, old), timeout=20)
    assert wait_for(lambda: sd.get("/healthz")[0] == 200, timeout=20)
    deliver(sd, ["user1@example.com"])
    assert wait_for(lambda: (sd.metric("loft_deliveries_total", protocol="lmtp", result="saved") or 0) >= 1)


@needs_root
def test_healthz_and_lda_in_who(sd, inst):
    sd.start()
    status, _, body = sd.get("/healthz")
    assert status == 200 and json.loads(body)["status"] == "ok"
    r = subprocess.run([binary("loft-lda"), "-c", inst.conf, "-d", "nosuch@example.com"],
                       input=MSG, capture_output=True, timeout=30)
    assert r.returncode == 67
    assert wait_for(lambda: sd.metric("loft_rcpt_rejected_total", reason="unknown_user") == 1)
    assert sd.metric("loft_deliveries_total", protocol="lda", result="rejected") == 1


@needs_root
def test_doveadm_http_api_shape(sd, inst):
    import base64
    sd.start()
    c = Raw(("127.0.0.1", sd.port))
    c.reply()
    c.cmd("MAIL FROM:<a@b.c>")
    c.cmd("RCPT TO:<user0@example.com>")

    def call(body, auth):
        req = urllib.request.Request(sd.url("/doveadm/v1"), data=json.dumps(body).encode(),
                                     headers={"Content-Type": "application/json",
                                              "Authorization": auth}, method="POST")
        try:
            with urllib.request.urlopen(req, timeout=20) as r:
                return r.status, json.loads(r.read())
        except urllib.error.HTTPError as e:
            return e.code, json.loads(e.read() or b"null")
    api = "X-Dovecot-API " + base64.b64encode(KEY.encode()).decode()
    basic = "Basic " + base64.b64encode(f"doveadm:{KEY}".encode()).decode()
    # the session's user arrives in a later stats batch than the session,
    # and Daemon.start's probe session may still be listed for a moment
    def user0(entries):
        return [e for e in entries if e["username"] == "user0@example.com"]
    assert wait_for(lambda: user0(call([["who", {}, "t1"]], api)[1][0][1]))
    status, body = call([["who", {}, "t1"], ["statsDump", {}, "t2"], ["nope", {}, "t3"]], api)
    assert status == 200
    assert body[0][0] == "doveadmResponse" and body[0][2] == "t1"
    assert user0(body[0][1]) and user0(body[0][1])[0]["service"] == "lmtp"
    assert body[1][0] == "doveadmResponse" and "metrics" in body[1][1]
    assert body[2] == ["error", {"type": "unknownMethod", "exitCode": 64}, "t3"]
    status, _ = call([["who", {}, "t1"]], "X-Dovecot-API " + base64.b64encode(b"wrong").decode())
    assert status == 401
    status, body = call([["kick", {"mask": "user0*"}, "k"]], basic)
    assert status == 200 and body[0][0] == "doveadmResponse" and len(body[0][1]) == 1
    assert c.line().startswith("421 4.3.2 ")


def raw_http(port, request, source="127.0.0.1", timeout=5):
    """Send request bytes from source, return (status, headers+body text)."""
    with socket.socket() as s:
        s.settimeout(timeout)
        s.bind((source, 0))
        s.connect(("127.0.0.1", port))
        s.sendall(request)
        data = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
    text = data.decode("utf-8", "replace")
    return int(text.split()[1]) if text.startswith("HTTP/1.") else None, text


def timed_get(d, path, source, key=None, limit=5.0):
    """GET path from source address; (status, seconds); the liveness bound
    is generous: slow clients or a pending reload must not block it."""
    req = (f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{d.http_port}\r\n"
           + (f"Authorization: Bearer {key}\r\n" if key else "")
           + "Connection: close\r\n\r\n").encode()
    start = time.monotonic()
    try:
        status, _ = raw_http(d.http_port, req, source=source, timeout=limit)
    except OSError:
        status = None
    return status, time.monotonic() - start


@needs_root
def test_every_api_call_needs_the_key(sd, inst):
    sd.start()
    for path in ["/api/v1/who", "/api/v1/stats", "/api/v1/deliveries",
                 "/api/v1/errors", "/api/v1/services"]:
        status, headers, body = sd.get(path, key=None)
        assert status == 401 and "authorization required" in body, (path, status, body)
        assert headers["WWW-Authenticate"].startswith("Bearer")
        assert sd.get(path, key="wrong")[0] == 401, path
        assert sd.get(path)[0] == 200, path
    # the scrapers' endpoints stay open
    assert sd.get("/metrics", key=None)[0] == 200
    assert sd.get("/healthz", key=None)[0] == 200
    status, body = sd.post("/doveadm/v1", [["who", {}, "t"]], key=None)
    assert status == 401
    # a flood is counted one by one and logged once per address and 10 s,
    # with the peer address and the path
    before = sd.metric("loft_http_auth_failures_total")
    for _ in range(30):
        assert sd.get("/api/v1/who", key="guess")[0] == 401
    assert sd.metric("loft_http_auth_failures_total") == before + 30
    line = r"Warning: http: authentication failed for (\S+) from 127\.0\.0\.1"
    assert wait_for(lambda: re.search(line, inst.log("loft.log")))
    time.sleep(0.5)
    assert len(re.findall(line, inst.log("loft.log"))) == 1, inst.log("loft.log")
    assert re.search(line, inst.log("loft.log")).group(1) in ("/api/v1/who", "/api/v1/stats",
                                                     "/api/v1/deliveries", "/api/v1/errors",
                                                     "/api/v1/services")


# every route of stats_api.c: method, path, a body that would do something
API_ROUTES = [
    ("GET", "/api/v1/who", None),
    ("POST", "/api/v1/kick", {"user": "user0*"}),
    ("POST", "/api/v1/reload", None),
    ("GET", "/api/v1/stats", None),
    ("POST", "/api/v1/stats/reset", None),
    ("GET", "/api/v1/deliveries", None),
    ("GET", "/api/v1/errors", None),
    ("GET", "/api/v1/services", None),
    ("POST", "/api/v1/debug", {"user": "user0*", "on": True}),
    ("POST", "/doveadm/v1", [["reload", {}, "r"], ["kick", {"mask": "user0*"}, "k"]]),
]


def api_call(d, method, path, body, authorization):
    """one request with exactly this Authorization header (None: none);
    (status, body text)"""
    headers = {} if authorization is None else {"Authorization": authorization}
    data = None
    if method == "POST":
        data = json.dumps(body).encode() if body is not None else b""
        headers["Content-Type"] = "application/json"
    req = urllib.request.Request(d.url(path), data=data, headers=headers, method=method)
    try:
        with urllib.request.urlopen(req, timeout=20) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


@needs_root
def test_every_endpoint_refuses_missing_and_wrong_keys(sd, inst):
    """Each /api/v1 and /doveadm/v1 route, without a key and with wrong
    ones (another bearer key, the right key in the wrong scheme, a key
    that is a prefix of the right one): 401, each failure counted, and
    nothing done (no kick, no reload, no reset, no debug mask)."""
    sd.start()
    held = Raw(("127.0.0.1", sd.port))
    held.reply()
    held.cmd("MAIL FROM:<a@example.org>")
    assert held.cmd("RCPT TO:<user0@example.com>") == ["250 2.1.5 OK"]
    assert wait_for(lambda: sd.metric("loft_sessions_total", service="lmtp") >= 1)
    sessions = sd.metric("loft_sessions_total", service="lmtp")
    failures = sd.metric("loft_http_auth_failures_total")
    wrong = [None, "Bearer wrong", f"Bearer {KEY}x", f"Bearer {KEY[:-1]}",
             f"Basic {KEY}", f"bearer{KEY}", "Bearer "]
    for method, path, body in API_ROUTES:
        for authorization in wrong:
            status, text = api_call(sd, method, path, body, authorization)
            assert status == 401, (method, path, authorization, status, text)
            assert "error" in json.loads(text), text
    assert sd.metric("loft_http_auth_failures_total") == failures + len(API_ROUTES) * len(wrong)
    # nothing happened: the session is there, no reload, no reset, no mask
    assert held.cmd("NOOP") == ["250 2.0.0 OK"]
    assert sd.metric("loft_kicks_total") == 0
    assert sd.metric("loft_config_reloads_total", result="ok") == 0
    assert sd.metric("loft_sessions_total", service="lmtp") == sessions
    assert sd.post("/api/v1/debug", {"user": "x*", "on": False}) == (200, {"debug_users": []})
    # the scrapers' two stay open, with or without a (wrong) key
    for path in ("/metrics", "/healthz"):
        for authorization in wrong:
            assert api_call(sd, "GET", path, None, authorization)[0] == 200, path
    held.cmd("QUIT")


@needs_root
def test_every_endpoint_is_off_without_a_configured_key(inst):
    """No http_api_key: every API route answers 403 saying so, whatever
    is sent; /metrics and /healthz answer."""
    d = StatsDaemon(inst, key="")
    try:
        d.start()
        for method, path, body in API_ROUTES:
            for authorization in (None, "Bearer ", "Bearer x"):
                status, text = api_call(d, method, path, body, authorization)
                assert status == 403 and "http_api_key" in json.loads(text)["error"], (
                    method, path, authorization, status, text)
        assert api_call(d, "GET", "/metrics", None, None)[0] == 200
        assert api_call(d, "GET", "/healthz", None, None)[0] == 200
    finally:
        d.stop()


@needs_root
def test_curl_form_body_is_read_as_json(sd, inst):
    if shutil.which("curl") is None:
        pytest.skip("curl not installed")
    sd.start()

    def curl(body):
        r = subprocess.run(["curl", "-s", "-w", "\n%{http_code}", "-d", body,
                            "-H", f"Authorization: Bearer {KEY}", sd.url("/api/v1/kick")],
                           capture_output=True, text=True, timeout=20)
        text, code = r.stdout.rsplit("\n", 1)
        return int(code), json.loads(text)
    # curl -d sends application/x-www-form-urlencoded
    status, body = curl('{"user":"nobody@example.com"}')
    assert status == 200 and body == {"count": 0, "kicked": []}, body
    status, body = curl("user=nobody")
    assert status == 400 and body["error"].startswith("invalid JSON body: "), body


@needs_root
def test_forged_host_is_refused(inst):
    d = StatsDaemon(inst, extra="http_api_allowed_hosts = stats.example.org, [::1]\n")
    try:
        d.start()
        for path in ["/metrics", "/healthz", "/api/v1/who"]:
            # a page on evil.example rebinding its name to 127.0.0.1
            status, _, body = d.get(path, {"Host": f"evil.example:{d.http_port}"}, key=None)
            assert status == 421, (path, status, body)
            assert "evil.example" in json.loads(body)["error"]
        # the key is what matters: with it any Host is fine
        assert d.get("/api/v1/who", {"Host": "evil.example"})[0] == 200
        for host in ["localhost", f"localhost:{d.http_port}", "127.0.0.1",
                     f"127.0.0.1:{d.http_port}", f"[::1]:{d.http_port}",
                     "stats.example.org", f"STATS.example.org:{d.http_port}"]:
            assert d.get("/metrics", {"Host": host}, key=None)[0] == 200, host
        assert d.get("/metrics", {"Host": "stats.example.org.evil.example"},
                     key=None)[0] == 421
    finally:
        d.stop()


def open_slow(port, sources, per_source):
    """Connections that send half a request and hold it."""
    from stats_attack import slow_http
    held = [slow_http(src, port, timeout=5) for src in sources for _ in range(per_source)]
    return [s for s in held if s is not None]


@needs_root
def test_slow_clients_do_not_block_metrics(sd, inst):
    sd.start()
    sources = [f"127.0.0.{i}" for i in range(2, 8)]
    held = open_slow(sd.http_port, sources, 16)
    try:
        time.sleep(0.3)
        for path in ["/metrics", "/healthz"]:
            status, took = timed_get(sd, path, "127.0.0.20")
            assert status == 200 and took < 5, (path, status, took)
        assert timed_get(sd, "/api/v1/who", "127.0.0.20", key=KEY)[0] == 200
    finally:
        for s in held:
            s.close()


@needs_root
def test_trickling_client_is_cut_off(sd, inst):
    sd.start()
    # sixteen connections from one address, each sending a byte a second:
    # never idle, so only a deadline for the headers frees the address
    held = open_slow(sd.http_port, ["127.0.0.30"], 16)
    stop = threading.Event()

    def trickle():
        while not stop.wait(1):
            for s in held:
                try:
                    s.send(b"x")
                except OSError:
                    pass
    t = threading.Thread(target=trickle)
    t.start()
    try:
        time.sleep(0.3)
        assert wait_for(lambda: timed_get(sd, "/metrics", "127.0.0.30", limit=2)[0] == 200,
                        timeout=12, interval=0.5)
    finally:
        stop.set()
        t.join()
        for s in held:
            s.close()


@needs_root
def test_slow_clients_that_reconnect_lock_nobody_out(sd, inst):
    """A local user (nobody) holds 16 slow connections from 127.0.0.1,
    where a local Prometheus scrapes from, and 16 from each of 40 more
    loopback addresses (more than the 512 connections allowed in all),
    opening each one again as soon as it is cut. Each new connection
    closes the one that has waited longest for its request, so a scrape
    from 127.0.0.1 or from anywhere else is answered at once (it was
    refused 9 times out of 10 from 127.0.0.1, and half the time from
    elsewhere). A request whose body trickles counts as waiting too."""
    from test_stats_security import Attacker
    sd.start()
    a = Attacker(inst, "slowhttp", sd.http_port, 41, 16)
    try:
        assert a.next(timeout=60)["held"] > 500
        time.sleep(0.5)
        for source in ["127.0.0.1", "127.0.0.99"] * 4:
            status, took = timed_get(sd, "/metrics", source, limit=3)
            assert status == 200, (source, status, took)
    finally:
        a.stop()
    # a body trickled a byte a second is cut at the deadline
    s = socket.socket()
    s.settimeout(10)
    s.connect(("127.0.0.1", sd.http_port))
    s.sendall(b"GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\n"
              b"Content-Length: 100\r\n\r\n")
    start = time.monotonic()
    while time.monotonic() - start < 12:
        try:
            s.send(b"x")
            time.sleep(1)
        except OSError:
            break
    s.close()
    assert time.monotonic() - start < 8


@needs_root
def test_reload_waiting_for_stopped_loftd_does_not_block_metrics(sd, inst):
    sd.start()
    result = {}

    def reload():
        result["reload"] = sd.post("/api/v1/reload")
    os.kill(sd.proc.pid, signal.SIGSTOP)
    try:
        t = threading.Thread(target=reload)
        t.start()
        time.sleep(0.5)
        assert t.is_alive()     # the reload waits for loftd
        for _ in range(3):
            status, took = timed_get(sd, "/metrics", "127.0.0.1")
            assert status == 200 and took < 5, (status, took)
            assert timed_get(sd, "/api/v1/stats", "127.0.0.1", key=KEY)[0] == 200
    finally:
        os.kill(sd.proc.pid, signal.SIGCONT)
    t.join(timeout=30)
    assert result["reload"] == (200, {"ok": True}), result
    assert wait_for(lambda: sd.get("/healthz")[0] == 200, timeout=20)
