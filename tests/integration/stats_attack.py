"""stats_attack - what any local user could try against loft-stats through
the 0666 stats-writer socket (issue 10). test_stats_security.py runs it
as `nobody`; each mode prints JSON lines on stdout and, where it holds
something, keeps going until it is terminated.

  slots PATH USER N        take N concurrency slots of USER under made-up
                           session ids, then hold the connection
  master PATH              say it is loftd: report no services, answer
                           every reload with ok
  takeover PATH SID        start session SID (a real one) as its own
  inject PATH              fake an LMTP session, delivery (its own uid)
                           and error of pid 1
  forge PATH UID USER      report a delivery for USER stored as UID (or,
                           UID "none", without a uid), see whether the
                           connection survives it
  flood PATH SECS          reconnect and send bad frames for SECS seconds
  conns PATH N             open N connections and hold them
  slowhttp PATH PORT SRCS PER
                           from 127.0.0.1 and SRCS-1 more loopback
                           addresses, PER connections each to the HTTP
                           listener on PORT that send half a request;
                           each one cut is opened again at once
  partial PATH N SIZE      open N connections, each sending a Hello and
                           all but the last byte of a SIZE-byte frame,
                           and hold them
"""
import json
import os
import socket
import struct
import sys
import time

import loftwire as w


def out(**kv):
    print(json.dumps(kv), flush=True)


def hold(conns):
    """keep the connections until terminated, noting when one closes"""
    while True:
        for c in conns:
            try:
                c.sock.setblocking(False)
                if c.sock.recv(65536) == b"":
                    out(event="closed")
                    conns.remove(c)
                    break
            except (BlockingIOError, InterruptedError):
                pass
            except OSError:
                conns.remove(c)
                out(event="closed")
                break
        time.sleep(0.1)


def slots(path, user, n):
    c = w.Conn(path)
    c.send(w.hello(w.ROLE_SERVICE, "lmtp", os.getpid()))
    for i in range(n):
        c.send(w.conc_acquire(i + 1, user, f"evil{os.getpid()}x{i}", 10))
    allowed = answered = 0
    closed = False
    deadline = time.monotonic() + 2
    while answered < n and time.monotonic() < deadline:
        try:
            m = c.recv(timeout=max(0.05, deadline - time.monotonic()))
        except (socket.timeout, TimeoutError):
            break
        if m is None:
            closed = True
            break
        num, f = m
        if num == w.CONC_REPLY:
            answered += 1
            allowed += f.get(2, [0])[0]
    out(allowed=allowed, answered=answered, closed=closed)
    hold([c] if not closed else [])


def master(path):
    c = w.Conn(path)
    out(ready=True)
    c.send(w.hello(w.ROLE_MASTER, "master", 1))
    c.send(w.master_status(os.getpid(), [("lmtp", [], False)]))
    commands = 0
    while True:
        try:
            m = c.recv(timeout=0.5)
        except (socket.timeout, TimeoutError):
            c.send(w.master_status(os.getpid(), [("lmtp", [], False)]))
            continue
        if m is None:
            out(event="closed", commands=commands)
            return
        num, f = m
        if num in (w.MASTER_COMMAND, w.RELOAD_REQUEST):
            commands += 1
            c.send(w.reload_result(f[1][0], True))
            out(event="command", commands=commands)


def takeover(path, sid):
    c = w.Conn(path)
    out(ready=True)
    c.send(w.hello(w.ROLE_SERVICE, "lmtp", os.getpid()))
    c.send(w.session_start(sid, "lmtp", os.getpid(), ["evil@example.com"]))
    c.send(w.session_update(sid, "DATA", ["evil@example.com"]))
    while True:
        m = c.recv(timeout=None)
        if m is None:
            out(event="closed")
            return
        if m[0] == w.KICK:
            out(event="kick", ids=[x.decode() for x in m[1].get(1, [])])


def inject(path):
    c = w.Conn(path)
    c.send(w.hello(w.ROLE_LDA, "lda", 1))
    c.send(w.session_start("FAKEFAKEFAKEFAKEFAKE01", "lmtp", 1, ["user0@example.com"]))
    c.send(w.delivery("FAKEFAKEFAKEFAKEFAKE01:T1:R1", "user0@example.com", 1,
                      uid=os.getuid()))
    c.send(w.log_event("injected by nobody", 1, service="master"))
    out(ready=True, pid=os.getpid())
    hold([c])


def forge(path, uid, user):
    c = w.Conn(path)
    c.send(w.hello(w.ROLE_LDA, "lda", 1))
    sid = f"FORGE{os.getpid()}"
    c.send(w.delivery(sid, user, 1, protocol="lda",
                      uid=None if uid == "none" else int(uid)))
    closed = c.closed_within(1.5)
    out(session=sid, pid=os.getpid(), uid=os.getuid(), closed=closed)
    hold([] if closed else [c])


def flood(path, secs):
    deadline = time.monotonic() + secs
    conns = frames = 0
    bad = w.delivery("X", "u", 1, protocol="nonsense") * 50
    starts = b"".join(w.session_start(f"flood{os.getpid()}x{i}", "lmtp", 1, ["u"] * 50)
                      for i in range(200))
    while time.monotonic() < deadline:
        try:
            c = w.Conn(path, timeout=1)
            conns += 1
            c.send(w.hello(w.ROLE_LDA, "lda", 1))
            c.send(starts if conns % 2 else bad)
            c.send(w.master_status(1, [("x" * 200, list(range(100)), True)] * 50))
            c.send(b"\x00\x00\x00\x05garbage")
            frames += 252
            c.close()
        except OSError:
            time.sleep(0.001)
    out(connections=conns, frames=frames)


def conns(path, n, then=b""):
    """n connections that say Hello and send then; held until killed"""
    held = []
    for _ in range(n):
        try:
            c = w.Conn(path, timeout=5)
            c.send(w.hello(w.ROLE_LDA, "lda", os.getpid()))
            if then:
                c.send(then)
            held.append(c)
        except OSError:
            break
    out(opened=len(held))
    while True:
        time.sleep(1)


def partial(path, n, size):
    conns(path, n, struct.pack(">I", size) + b"\x0a" * (size - 1))


def slow_http(src, port, timeout=2):
    """a connection from src to the HTTP listener on port that sent half
    a request, or None (test_stats.py uses it too)"""
    s = socket.socket()
    s.settimeout(timeout)
    try:
        s.bind((src, 0))
        s.connect(("127.0.0.1", port))
        s.sendall(b"GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
    except OSError:
        s.close()
        return None
    return s


def slowhttp(port, srcs, per):
    sources = ["127.0.0.1"] + [f"127.0.{2 + i // 250}.{1 + i % 250}"
                               for i in range(srcs - 1)]
    held = {src: [] for src in sources}
    reported = False
    while True:
        for src, conns in held.items():
            while len(conns) < per:
                s = slow_http(src, port)
                if s is None:
                    break
                s.setblocking(False)
                conns.append(s)
            for s in list(conns):
                try:
                    if s.recv(4096) == b"":
                        conns.remove(s)
                        s.close()
                except BlockingIOError:
                    pass
                except OSError:
                    conns.remove(s)
                    s.close()
        if not reported:
            out(held=sum(len(c) for c in held.values()))
            reported = True
        time.sleep(0.01)


def main():
    mode, path, args = sys.argv[1], sys.argv[2], sys.argv[3:]
    if mode == "slots":
        slots(path, args[0], int(args[1]))
    elif mode == "master":
        master(path)
    elif mode == "takeover":
        takeover(path, args[0])
    elif mode == "inject":
        inject(path)
    elif mode == "forge":
        forge(path, args[0], args[1])
    elif mode == "flood":
        flood(path, float(args[0]))
    elif mode == "slowhttp":
        slowhttp(int(args[0]), int(args[1]), int(args[2]))
    elif mode == "partial":
        partial(path, int(args[0]), int(args[1]))
    elif mode == "conns":
        conns(path, int(args[0]))
    else:
        sys.exit(f"unknown mode {mode}")


if __name__ == "__main__":
    main()
