"""loftwire - the few loft IPC messages the security tests speak, encoded
by hand (proto/loft.proto field numbers; no protoc needed): frames are a
4-byte big-endian length and one Envelope."""
import socket
import struct

PROTOCOL_VERSION = 1
ROLE_SERVICE, ROLE_LDA, ROLE_MASTER = 1, 2, 3

# Envelope body field numbers
HELLO, SESSION_START, SESSION_UPDATE, SESSION_END, DELIVERY = 1, 2, 3, 4, 5
LOG_EVENT, DROPPED, MASTER_STATUS, KICK, DEBUG_USERS = 7, 8, 9, 10, 11
CONC_ACQUIRE, CONC_REPLY, CONC_RELEASE = 12, 13, 14
RELOAD_REQUEST, RELOAD_RESULT, MASTER_COMMAND = 15, 16, 19


def varint(n):
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def field(num, value):
    """value: int (varint), bool, str/bytes (length-delimited), or a
    list of those (repeated)"""
    if isinstance(value, list):
        return b"".join(field(num, v) for v in value)
    if isinstance(value, bool):
        value = int(value)
    if isinstance(value, int):
        return varint(num << 3) + varint(value)
    if isinstance(value, str):
        value = value.encode()
    return varint(num << 3 | 2) + varint(len(value)) + value


def message(*fields):
    return b"".join(field(n, v) for n, v in fields if v is not None)


def frame(body_field, body):
    env = field(body_field, body)
    return struct.pack(">I", len(env)) + env


def hello(role, service, pid):
    return frame(HELLO, message((1, PROTOCOL_VERSION), (2, role), (3, service), (4, pid)))


def session_start(sid, service, pid, users=(), start_usecs=1, ip="192.0.2.9"):
    return frame(SESSION_START, message((1, sid), (2, service), (3, pid), (4, ip),
                                        (8, start_usecs), (9, "RCPT TO"),
                                        (10, list(users))))


def session_update(sid, state, users=()):
    return frame(SESSION_UPDATE, message((1, sid), (2, state), (3, list(users))))


def session_end(sid):
    return frame(SESSION_END, message((1, sid)))


def delivery(sid, user, pid, protocol="lmtp", result="saved", uid=None):
    """uid: the uid the delivery ran as (field 27), None: not sent"""
    fields = [(1, 1), (2, protocol), (3, pid), (4, sid), (5, user),
              (14, result), (15, 250), (16, "2.0.0"), (17, "Saved")]
    if uid is not None:
        fields.append((27, uid))
    return frame(DELIVERY, message(*fields))


def log_event(text, pid, service="lmtp", level="error"):
    return frame(LOG_EVENT, message((1, 1), (2, level), (3, service), (4, pid), (7, text)))


def master_status(pid, services):
    """services: [(name, [pids], up)]"""
    items = [message((1, name), (2, len(pids)), (3, 1), (4, 1), (5, 0), (7, up), (8, pids))
             for name, pids, up in services]
    return frame(MASTER_STATUS, message((1, pid), (2, 1), (3, items), (4, 0), (5, 0)))


def conc_acquire(req_id, user, sid, limit):
    return frame(CONC_ACQUIRE, message((1, req_id), (2, user), (3, sid), (4, limit)))


def reload_result(req_id, ok=True):
    return frame(RELOAD_RESULT, message((1, req_id), (2, ok)))


def parse(data):
    """fields of one message: {num: [int | bytes, ...]}"""
    out, i = {}, 0
    while i < len(data):
        key, i = _varint_at(data, i)
        num, wt = key >> 3, key & 7
        if wt == 0:
            v, i = _varint_at(data, i)
        elif wt == 2:
            n, i = _varint_at(data, i)
            v, i = data[i:i + n], i + n
        elif wt == 1:
            v, i = data[i:i + 8], i + 8
        elif wt == 5:
            v, i = data[i:i + 4], i + 4
        else:
            raise ValueError(f"wire type {wt}")
        out.setdefault(num, []).append(v)
    return out


def _varint_at(data, i):
    n = shift = 0
    while True:
        b = data[i]
        i += 1
        n |= (b & 0x7F) << shift
        shift += 7
        if not b & 0x80:
            return n, i


class Conn:
    """A stats-writer connection: send frames, read envelopes."""

    def __init__(self, path, timeout=5):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(timeout)
        self.sock.connect(path)
        self.buf = b""

    def send(self, data):
        """False when the peer has closed the connection"""
        try:
            self.sock.sendall(data)
            return True
        except (BrokenPipeError, ConnectionResetError):
            return False

    def recv(self, timeout=None):
        """(body field number, body fields) of the next envelope; None
        at EOF (or a reset); raises socket.timeout"""
        if timeout is not None:
            self.sock.settimeout(timeout)
        while True:
            if len(self.buf) >= 4:
                n = struct.unpack(">I", self.buf[:4])[0]
                if len(self.buf) >= 4 + n:
                    env, self.buf = self.buf[4:4 + n], self.buf[4 + n:]
                    (num, [body]), = parse(env).items()
                    return num, parse(body)
            try:
                chunk = self.sock.recv(65536)
            except ConnectionResetError:
                return None
            if not chunk:
                return None
            self.buf += chunk

    def closed_within(self, seconds):
        """True when the peer closes the connection within seconds
        (messages before that are skipped)"""
        import time
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            try:
                if self.recv(timeout=max(0.05, deadline - time.monotonic())) is None:
                    return True
            except (socket.timeout, TimeoutError):
                return False
        return False

    def close(self):
        self.sock.close()
