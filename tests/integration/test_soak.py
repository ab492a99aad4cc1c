"""Hostile-client soak: many concurrent random LMTP clients against a real
loftd, for LOFT_SOAK_SECONDS (default 30 s against the ASan build, where
CMake sets LOFT_SANITIZE=1, else 15 s).

Each client thread runs sessions one after another, each from its own
seeded script: valid deliveries (pipelined or not, DATA or BDAT in random
chunks, duplicate and unknown recipients, several transactions) mixed with
hostile sessions (random and malformed commands, pipelined bursts, huge
lines, binary junk with NULs, BDAT with wrong sizes, disconnects in the
middle of DATA, resets, half-closes, abandoned connections), over TCP and
the UNIX socket, loopback only.

Afterwards: every "250 ... Saved" a valid delivery got has exactly one
stored copy holding the bytes sent, no Saved id at all is without a stored
file, nothing is left in tmp/; no sanitizer report, panic or fatal in any
log; no service restarted (loft_service_restarts_total from loft-stats'
/metrics, and the same loft-lmtp and loft-stats pids); a plain delivery
still lands. The seed is printed and named in every failure; set
LOFT_SOAK_SEED to replay the same session scripts (thread interleaving
still differs)."""
import collections
import hashlib
import os
import random
import re
import select
import smtplib
import socket
import struct
import threading
import time


from conftest import needs_root, wait_for
from test_stats import StatsDaemon

SANITIZED = os.environ.get("LOFT_SANITIZE") == "1"
SECONDS = float(os.environ.get("LOFT_SOAK_SECONDS") or (30 if SANITIZED else 15))
CLIENTS = 40
MAX_SESSIONS = 50000
USERS = [f"user{i}@example.com" for i in range(4)]
MAX_MESSAGE = 1024 * 1024
SAVED = re.compile(rb"^250 2\.0\.0 <([^>]*)> (\S+) Saved\r?$", re.M)


class Closed(Exception):
    """The server closed the connection."""


class Client:
    """One LMTP connection: line replies, raw sends, draining."""

    def __init__(self, soak, rng, timeout):
        if rng.random() < 0.2:
            self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            addr = soak.daemon.socket
        else:
            self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            addr = ("127.0.0.1", soak.daemon.port)
        self.sock.settimeout(timeout)
        self.sock.connect(addr)
        self.soak = soak
        self.buf = b""
        self.seen = b""

    def send(self, data):
        self.sock.sendall(data)

    def _recv(self):
        chunk = self.sock.recv(65536)
        if not chunk:
            raise Closed()
        self.buf += chunk
        self.seen += chunk

    def line(self):
        while b"\n" not in self.buf:
            self._recv()
        line, _, self.buf = self.buf.partition(b"\n")
        return line.rstrip(b"\r").decode("utf-8", "replace")

    def reply(self):
        """One (possibly multi-line) reply: its last line."""
        line = self.line()
        while len(line) > 3 and line[3] == "-":
            line = self.line()
        return line

    def drain(self, wait):
        """Read whatever arrives within wait seconds; False once closed."""
        try:
            while select.select([self.sock], [], [], wait)[0]:
                self._recv()
                wait = 0
        except (Closed, OSError):
            return False
        return True

    def until_closed(self, timeout):
        """Read until the server closes; False when it did not in time."""
        end = time.monotonic() + timeout
        try:
            while time.monotonic() < end:
                if select.select([self.sock], [], [], max(0, end - time.monotonic()))[0]:
                    self._recv()
        except (Closed, OSError):
            return True
        return False

    def close(self, reset=False):
        if reset:   # RST instead of FIN
            try:
                self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            except OSError:
                pass
        self.sock.close()
        self.soak.note_saved(self.seen)


def message(rng, msgid):
    """A message with CRLF line ends: dot lines, 8-bit bytes, sometimes
    big enough to be spooled to a file."""
    r = rng.random()
    lines = rng.randint(1, 40) if r < 0.8 else rng.randint(500, 2500) if r < 0.95 else 9000
    out = [b"From: Soak <soak@example.org>", b"To: user0@example.com",
           b"Subject: soak " + msgid.encode(), b"Message-ID: " + msgid.encode(), b""]
    for _ in range(lines):
        kind = rng.random()
        if kind < 0.05:
            out.append(b".")
        elif kind < 0.1:
            out.append(b".." + b"x" * rng.randint(0, 10))
        else:
            text = bytes(rng.choice(b"abcdefghij KLMNOP.,:-\xc3\xa9\xe2\x82\xac")
                         for _ in range(rng.randint(0, 70)))
            out.append(text)
    return b"\r\n".join(out) + b"\r\n"


def dot_stuff(msg):
    return b"\r\n".join((b"." + ln if ln.startswith(b".") else ln)
                        for ln in msg.split(b"\r\n"))


def random_address(rng):
    return rng.choice(USERS + ["nouser@example.com", "user1+box@example.com", "a@b", "",
                               "\"q q\"@example.com", "x" * rng.randint(1, 300) + "@example.com",
                               "@route:a@b", "bad<>@x", "user0@[127.0.0.1]"])


def random_command(rng):
    """One command line, valid or not."""
    verb = rng.choice(["LHLO", "MAIL", "RCPT", "DATA", "RSET", "NOOP", "VRFY", "BDAT",
                       "STARTTLS", "AUTH", "XCLIENT", "HELO", "EHLO", "lhlo", "rcpt",
                       "QUIT" if rng.random() < 0.1 else "NOOP",
                       "".join(rng.choice("ABCXYZ") for _ in range(rng.randint(1, 40)))])
    arg = rng.choice([
        "", " soak.example.org", f" FROM:<{random_address(rng)}>",
        f" FROM:<{random_address(rng)}> SIZE={rng.choice([0, 100, 10 ** 7, 10 ** 30])}",
        " FROM:<> BODY=8BITMIME", " FROM:<a@b> BODY=JUNK", f" TO:<{random_address(rng)}>",
        f" TO:<{random_address(rng)}> ORCPT=rfc822;x+2By@example.com",
        f" TO:<{random_address(rng)}> NOTIFY=NEVER", " TO:", " FROM:", "  double space",
        f" {rng.randint(0, 50)}", f" {rng.randint(0, 50)} LAST", " 5 JUNK", " -1", " x",
        " \"quoted string\"", "\t", " \x01\x7f",
    ])
    return (verb + arg).encode("utf-8", "surrogateescape") + b"\r\n"


def junk(rng, n):
    return rng.randbytes(n)


class Soak:
    def __init__(self, daemon, seed, seconds):
        self.daemon = daemon
        self.seed = seed
        self.deadline = time.monotonic() + seconds
        self.lock = threading.Lock()
        self.started = 0
        self.counts = collections.Counter()
        self.expected = {}      # (user, msgid) -> (length, sha256) of what must be stored
        self.saved_ids = set()  # every Saved id any session read
        self.failures = []

    def note_saved(self, seen):
        with self.lock:
            self.saved_ids.update(m.group(2) for m in SAVED.finditer(seen))

    def fail(self, tag, what):
        with self.lock:
            self.failures.append(f"seed {self.seed} session {tag}: {what}")

    def count(self, key, n=1):
        with self.lock:
            self.counts[key] += n

    # ------------------------------------------------------------ valid

    def transaction(self, c, rng, tag, number):
        """One delivery; records what must be stored."""
        msgid = f"<soak-{self.seed}-{tag}-{number}@example.org>"
        rcpts = rng.sample(USERS, rng.randint(1, 4))
        for _ in range(rng.choice([0, 0, 1, 3])):   # duplicates, up to 7 recipients
            rcpts.insert(rng.randrange(1, len(rcpts) + 1), rng.choice(rcpts))
        if rng.random() < 0.2:
            rcpts.insert(rng.randrange(len(rcpts) + 1), "nouser@example.com")
        msg = message(rng, msgid)
        bdat = rng.random() < 0.4
        pipelined = rng.random() < 0.5
        cmds = [f"MAIL FROM:<sender@example.org> SIZE={len(msg)}"] + \
            [f"RCPT TO:<{r}>" for r in rcpts] + ([] if bdat else ["DATA"])
        if pipelined:
            c.send("".join(x + "\r\n" for x in cmds).encode())
            replies = [c.reply() for _ in cmds]
        else:
            replies = []
            for x in cmds:
                c.send(x.encode() + b"\r\n")
                replies.append(c.reply())
        if not replies[0].startswith("250 "):
            return self.fail(tag, f"MAIL: {replies[0]}")
        accepted = []
        for r, rep in zip(rcpts, replies[1:1 + len(rcpts)]):
            if rep.startswith("250 "):
                accepted.append(r)
            elif not (rep.startswith("550 5.1.1") and r == "nouser@example.com") and \
                    not rep.startswith("451 4.3.0"):   # concurrency limit
                return self.fail(tag, f"RCPT {r}: {rep}")
        if bdat:
            cuts = sorted(rng.sample(range(1, len(msg)), min(rng.randint(0, 3), len(msg) - 1)))
            chunks = [msg[a:b] for a, b in zip([0] + cuts, cuts + [len(msg)])]
            wire = [f"BDAT {len(ch)}{' LAST' if i == len(chunks) - 1 else ''}\r\n".encode() + ch
                    for i, ch in enumerate(chunks)]
            if pipelined:
                c.send(b"".join(wire))
                answers = [c.reply() for _ in wire[:-1]]
            else:
                answers = []
                for w in wire[:-1]:
                    c.send(w)
                    answers.append(c.reply())
                c.send(wire[-1])
            if not accepted:
                answers.append(c.reply())
                if any(not a.startswith("503 ") for a in answers):
                    return self.fail(tag, f"BDAT without recipients: {answers}")
                return self.rset(c, tag)
            if any(not a.startswith("250 2.0.0 Added") for a in answers):
                return self.fail(tag, f"BDAT: {answers}")
        else:
            if not accepted:
                if not replies[-1].startswith("503 "):
                    return self.fail(tag, f"DATA without recipients: {replies[-1]}")
                return self.rset(c, tag)
            if replies[-1] != "354 OK":
                return self.fail(tag, f"DATA: {replies[-1]}")
            data = dot_stuff(msg) + b".\r\n"
            cut = rng.randrange(len(data))
            c.send(data[:cut])
            c.send(data[cut:])
        for r in accepted:
            rep = c.reply()
            if not re.match(rf"^250 2\.0\.0 <{re.escape(r)}> \S+ Saved$", rep):
                return self.fail(tag, f"after data for {r}: {rep}")
            self.count("saved replies")
        stored = msg.replace(b"\r\n", b"\n")
        with self.lock:
            for r in set(accepted):
                self.expected[(r, msgid)] = (len(stored), hashlib.sha256(stored).hexdigest())

    def rset(self, c, tag):
        """End a transaction that has no recipient."""
        c.send(b"RSET\r\n")
        reply = c.reply()
        if reply != "250 2.0.0 OK":
            self.fail(tag, f"RSET: {reply}")

    def valid_session(self, rng, tag):
        c = Client(self, rng, timeout=120)
        try:
            if not c.reply().startswith("220 "):
                return self.fail(tag, "no greeting")
            c.send(b"LHLO soak.example.org\r\n")
            if not c.reply().startswith("250 "):
                return self.fail(tag, "LHLO")
            for number in range(rng.randint(1, 3)):
                self.transaction(c, rng, tag, number)
                if rng.random() < 0.2:
                    self.rset(c, tag)
            if rng.random() < 0.8:
                c.send(b"QUIT\r\n")
                if not c.reply().startswith("221 "):
                    return self.fail(tag, "QUIT")
        except (Closed, OSError) as e:
            self.fail(tag, f"valid session lost its connection: {e!r}")
        finally:
            c.close()

    # ---------------------------------------------------------- hostile

    def hostile_session(self, rng, tag):
        c = Client(self, rng, timeout=60)
        reset = False
        try:
            endings = ["quit", "close", "reset", "half_close", "abandon"]
            for _ in range(rng.randint(1, 15)):
                action = rng.choices(
                    ["command", "pipeline", "huge_line", "junk", "bdat_wrong",
                     "mid_data", "too_big", "pause"],
                    [30, 15, 8, 12, 12, 10, 3, 5])[0]
                self.count(f"hostile {action}")
                if action == "command":
                    c.send(random_command(rng))
                elif action == "pipeline":
                    c.send(b"".join(random_command(rng) for _ in range(rng.randint(2, 40))))
                elif action == "huge_line":
                    c.send(rng.choice([b"NOOP ", b"RCPT TO:<", b"", b"MAIL FROM:<a@"]) +
                           b"A" * rng.randint(4000, 400000) +
                           rng.choice([b"\r\n", b"\n", b""]))
                elif action == "junk":
                    c.send(junk(rng, rng.randint(1, 8192)) + rng.choice([b"", b"\r\n", b"\0\r\n"]))
                elif action == "bdat_wrong":
                    size = rng.choice([0, 1, 10, 1000, 70000, 10 ** 12])
                    sent = max(0, size + rng.randint(-20, 20)) if size < 10 ** 6 else rng.randint(0, 5000)
                    c.send(f"BDAT {size}{rng.choice(['', ' LAST', ' last', ' JUNK'])}\r\n".encode() +
                           junk(rng, sent))
                elif action == "mid_data":
                    c.send(f"MAIL FROM:<a@example.org>\r\nRCPT TO:<{rng.choice(USERS)}>\r\n"
                           f"{rng.choice(['DATA', 'BDAT 5000 LAST'])}\r\n".encode() +
                           message(rng, "<mid@x>")[:rng.randint(0, 3000)])
                    if rng.random() < 0.6:
                        endings = ["close", "reset", "half_close"]
                        break   # gone in the middle of the data
                elif action == "too_big":
                    c.send(b"MAIL FROM:<a@example.org>\r\nRCPT TO:<user3@example.com>\r\nDATA\r\n" +
                           (b"y" * 998 + b"\r\n") * (MAX_MESSAGE // 1000 + 50) + b".\r\n")
                elif action == "pause":
                    time.sleep(rng.uniform(0, 0.5))
                if not c.drain(rng.choice([0, 0.005, 0.05])):
                    return
            ending = rng.choice(endings)
            self.count(f"ending {ending}")
            if ending == "quit":
                # swallowed when the session is inside DATA or a chunk
                c.send(b"QUIT\r\n")
                c.until_closed(2)
            elif ending == "half_close":
                # after EOF the server must hang up, whatever the state
                c.sock.shutdown(socket.SHUT_WR)
                if not c.until_closed(90):
                    self.fail(tag, "the server kept a half-closed connection open")
            elif ending == "abandon":
                time.sleep(rng.uniform(0, 1.5))
            reset = ending == "reset"
        except (Closed, OSError):
            pass   # the server may hang up on a hostile client
        finally:
            c.close(reset=reset)

    # -------------------------------------------------------------- run

    def worker(self, index):
        n = 0
        while time.monotonic() < self.deadline:
            with self.lock:
                if self.started >= MAX_SESSIONS:
                    return
                self.started += 1
            tag = f"{index}.{n}"
            rng = random.Random(f"{self.seed}:{tag}")
            n += 1
            try:
                if rng.random() < 0.35:
                    self.count("valid sessions")
                    self.valid_session(rng, tag)
                else:
                    self.count("hostile sessions")
                    self.hostile_session(rng, tag)
            except OSError as e:   # connect refused: the service is gone
                self.fail(tag, f"connect: {e!r}")
                time.sleep(0.1)

    def run(self):
        threads = [threading.Thread(target=self.worker, args=(i,), daemon=True)
                   for i in range(CLIENTS)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=max(1, self.deadline - time.monotonic()) + 300)
        stuck = sum(t.is_alive() for t in threads)
        if stuck:
            self.failures.append(f"seed {self.seed}: {stuck} client threads still running")


def stored_messages(inst):
    """(user, Message-ID) -> stored file contents, from every new/ folder;
    and the count of files left in tmp/ folders."""
    found = collections.defaultdict(list)
    in_tmp = 0
    for user in USERS:
        for top, dirs, files in os.walk(inst.home(user)):
            if os.path.basename(top) == "tmp":
                in_tmp += len(files)
            if os.path.basename(top) != "new":
                continue
            for name in files:
                with open(os.path.join(top, name), "rb") as f:
                    data = f.read()
                m = re.search(rb"^Message-ID: (<[^>\n]*>)$", data, re.M)
                found[(user, m.group(1).decode() if m else None)].append(data)
    return found, in_tmp


def log_problems(inst):
    bad = re.compile(r"AddressSanitizer|LeakSanitizer|UndefinedBehaviorSanitizer|runtime error|"
                     r": Panic: |: Fatal: ")
    problems = []
    for name in sorted(os.listdir(inst.logdir)):
        with open(os.path.join(inst.logdir, name), errors="replace") as f:
            problems += [f"{name}: {line.rstrip()}" for line in f if bad.search(line)]
    return problems


def restart_counts(d):
    status, _, text = d.get("/metrics")
    assert status == 200, status
    return {m.group(1): float(m.group(2)) for m in re.finditer(
        r'^loft_service_restarts_total\{service="([^"]*)"\} (\S+)$', text, re.M)}


@needs_root
def test_soak_hostile_clients(inst):
    for user in USERS[2:]:   # the fixture has user0 and user1
        inst.add_user(user)
    seed = int(os.environ.get("LOFT_SOAK_SEED") or random.randrange(1 << 32))
    print(f"soak seed {seed} ({SECONDS:g} s, {CLIENTS} clients; LOFT_SOAK_SEED={seed} replays)")
    d = StatsDaemon(inst, extra=f"""
        lmtp_max_message_size = {MAX_MESSAGE}
        mail_temp_dir = {inst.root}
        """)
    d.start()
    try:
        lmtp_pids = set(d.children("loft-lmtp"))
        stats_pid = d.stats_pid()
        assert lmtp_pids and stats_pid
        before = restart_counts(d)
        assert "lmtp" in before and not any(before.values()), before

        soak = Soak(d, seed, SECONDS)
        start = time.monotonic()
        soak.run()
        took = time.monotonic() - start
        print(f"soak: {soak.started} sessions in {took:.1f} s, {soak.counts['saved replies']} "
              f"Saved replies to valid deliveries, {len(soak.expected)} messages expected, "
              f"{dict(soak.counts)}")

        # nothing crashed or was replaced (checked first: a crash explains
        # the clients' failures)
        assert not log_problems(inst), (seed, log_problems(inst)[:20])
        assert restart_counts(d) == before, f"seed {seed}: {restart_counts(d)}"
        assert lmtp_pids <= set(d.children("loft-lmtp")), f"seed {seed}: a loft-lmtp was replaced"
        assert d.stats_pid() == stats_pid
        assert not soak.failures, soak.failures[:20]
        assert soak.counts["saved replies"] > 0, f"seed {seed}: no delivery succeeded"

        # every Saved answer has its message, once, with the bytes sent
        # (sessions still ending store no more mail: abandoned ones had
        # no complete message)
        assert wait_for(lambda: stored_messages(inst)[1] == 0, timeout=30), \
            f"seed {seed}: files left in tmp/"
        found, _ = stored_messages(inst)
        for (user, msgid), (length, digest) in soak.expected.items():
            copies = found.get((user, msgid), [])
            assert len(copies) == 1, f"seed {seed}: {user} {msgid}: {len(copies)} copies"
            tail = copies[0][-length:]
            assert hashlib.sha256(tail).hexdigest() == digest, \
                f"seed {seed}: {user} {msgid}: stored bytes differ"
        files = sum(len(v) for v in found.values())
        assert len(soak.saved_ids) <= files, \
            f"seed {seed}: {len(soak.saved_ids)} Saved ids but {files} stored files"

        # and mail still flows
        msg = message(random.Random(seed), "<soak-after@example.org>")
        with smtplib.LMTP("127.0.0.1", d.port) as s:
            s.ehlo("after")
            s.sendmail("sender@example.org", ["user0@example.com"], msg)
        assert wait_for(lambda: ("user0@example.com", "<soak-after@example.org>")
                        in stored_messages(inst)[0], timeout=10)
    finally:
        d.stop()
    assert not log_problems(inst), (seed, log_problems(inst)[:20])
