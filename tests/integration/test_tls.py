"""TLS for LMTP through real clients: Python's ssl and smtplib.LMTP,
swaks --tls/--tlsc, openssl s_client -starttls lmtp and Postfix's lmtp
client (a private Postfix instance, lmtp_tls_security_level = secure)
against a real loftd. Certificates are made here with the openssl command.

Postfix's smtp-source has no TLS option, so it cannot take part here.
"""
import os
import re
import shutil
import smtplib
import socket
import ssl
import subprocess
import time

import pytest

from conftest import binary, wait_for
from test_lmtp import MSG, Raw
from test_stats import StatsDaemon


def make_cert(folder, name, serial, rsa=False):
    """A self-signed EC (or RSA) certificate for testhost and 127.0.0.1
    with this serial: (cert path, key path)"""
    cert = os.path.join(folder, f"{name}.pem")
    key = os.path.join(folder, f"{name}.key")
    keyopts = (["-newkey", "rsa:2048"] if rsa else
               ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1"])
    subprocess.run(["openssl", "req", "-x509", *keyopts, "-nodes",
                    "-keyout", key, "-out", cert, "-days", "2",
                    "-subj", "/CN=testhost",
                    "-addext", "subjectAltName=DNS:testhost,IP:127.0.0.1",
                    "-set_serial", str(serial)],
                   check=True, capture_output=True)
    return cert, key


def serial_of_der(der):
    out = subprocess.run(["openssl", "x509", "-inform", "DER", "-noout", "-serial"],
                         input=der, capture_output=True, check=True).stdout.decode()
    return int(out.strip().split("=", 1)[1], 16)


def client_context(cafile):
    ctx = ssl.create_default_context(cafile=cafile)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    return ctx


class TlsDaemon(StatsDaemon):
    """loftd with ssl on: STARTTLS on the plain listener, and a second
    listener with ssl = yes"""

    def __init__(self, inst, ssl_mode="yes", extra=""):
        self.certdir = os.path.join(inst.root, "certs")
        os.makedirs(self.certdir, exist_ok=True)
        self.cert, self.key = make_cert(self.certdir, "a", 0x1001)
        # the config reads these paths: a reload re-reads them
        self.cert_path = os.path.join(self.certdir, "server.pem")
        self.key_path = os.path.join(self.certdir, "server.key")
        self.install(self.cert, self.key)
        self.tls_port = None
        super().__init__(inst, extra=f"""
            ssl = {ssl_mode}
            ssl_cert = <{self.cert_path}
            ssl_key = <{self.key_path}
            """ + extra)

    def install(self, cert, key):
        shutil.copyfile(cert, self.cert_path + ".new")
        os.replace(self.cert_path + ".new", self.cert_path)
        shutil.copyfile(key, self.key_path + ".new")
        os.replace(self.key_path + ".new", self.key_path)

    def add_tls_listener(self):
        """an ssl = yes inet listener in service lmtp, beside the others"""
        self.tls_port = _free_port_other_than(self.port, self.http_port)
        with open(self.inst.conf) as f:
            text = f.read()
        text = text.replace("service lmtp {\n", f"""service lmtp {{
  inet_listener lmtps {{
    address = 127.0.0.1
    port = {self.tls_port}
    ssl = yes
  }}
""", 1)
        with open(self.inst.conf, "w") as f:
            f.write(text)
        return self

    def tls_socket(self, port=None, source=None):
        """a connection to the ssl = yes listener, handshake done"""
        raw = socket.create_connection(("127.0.0.1", port or self.tls_port), timeout=20,
                                       source_address=source)
        return client_context(self.cert).wrap_socket(raw, server_hostname="testhost")

    def served_serial(self, port=None):
        """serial number of the certificate the ssl = yes listener serves"""
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        raw = socket.create_connection(("127.0.0.1", port or self.tls_port), timeout=20)
        with ctx.wrap_socket(raw) as s:
            return serial_of_der(s.getpeercert(binary_form=True))

    def warnings(self):
        return self.inst.log("loft.log")


def _free_port_other_than(*taken):
    from conftest import free_port
    while True:
        p = free_port()
        if p not in taken:
            return p


class TlsRaw(Raw):
    """Raw over an already wrapped socket"""

    def __init__(self, sock):
        self.sock = sock
        self.buf = b""


@pytest.fixture
def tlsd(inst):
    d = TlsDaemon(inst).add_tls_listener()
    d.start()
    yield d
    d.stop()


def closed(raw):
    """the server closed the connection (after any TLS alert it sent)"""
    try:
        while True:
            chunk = raw.sock.recv(65536)
            if not chunk:
                return True
            assert len(chunk) < 100, chunk  # an alert, never a session
    except (ConnectionResetError, socket.timeout):
        return True


def delivered(inst, user="user0@example.com"):
    return len(inst.new_files(user))


def test_starttls_advertised_and_used_by_smtplib(tlsd, inst):
    c = smtplib.LMTP("127.0.0.1", tlsd.port)
    code, caps = c.ehlo()
    assert code == 250 and caps.decode().splitlines()[-1] == "STARTTLS"
    code, text = c.starttls(context=client_context(tlsd.cert))
    assert (code, text) == (220, b"2.0.0 Begin TLS negotiation now.")
    assert c.sock.version() in ("TLSv1.2", "TLSv1.3")
    # RFC 3207 4.2: a fresh session, and STARTTLS is no longer offered
    code, caps = c.ehlo()
    assert code == 250 and b"STARTTLS" not in caps
    assert c.docmd("STARTTLS") == (502, b"5.5.1 TLS is already active.")
    assert c.sendmail("sender@example.org", ["user0@example.com"], MSG) == {}
    c.quit()
    assert delivered(inst) == 1
    assert wait_for(lambda: (tlsd.metric("loft_tls_handshakes_total") or 0) >= 1)
    assert re.search(r"lmtp<\d+><[^>]+>: Info: TLS: TLSv1\.[23] with cipher ", inst.log())


def test_starttls_not_offered_without_ssl(daemon):
    daemon.start()
    c = Raw(("127.0.0.1", daemon.port))
    c.line()
    lhlo = c.cmd("LHLO x")
    assert not any("STARTTLS" in line for line in lhlo)
    assert lhlo[-1].startswith("250 SIZE")
    assert c.cmd("STARTTLS") == ["502 5.5.1 TLS support is not enabled."]
    c.close()


def test_starttls_with_parameters_refused(tlsd):
    c = Raw(("127.0.0.1", tlsd.port))
    c.line()
    assert c.cmd("STARTTLS now") == ["501 5.5.4 Invalid parameters"]
    assert c.cmd("NOOP") == ["250 2.0.0 OK"]
    c.close()


def test_immediate_tls_listener(tlsd, inst):
    assert re.search(rf"service\(lmtp\): inet_listener lmtps: listening on "
                     rf"127\.0\.0\.1:{tlsd.tls_port} \(TLS\)$", inst.log(), re.M)
    s = tlsd.tls_socket()
    c = TlsRaw(s)
    assert c.line() == "220 testhost loft ready."
    lhlo = c.cmd("LHLO client")
    assert not any("STARTTLS" in line for line in lhlo)
    assert c.cmd("STARTTLS") == ["502 5.5.1 TLS is already active."]
    assert c.cmd("MAIL FROM:<sender@example.org>") == ["250 2.1.0 OK"]
    assert c.cmd("RCPT TO:<user0@example.com>")[0].startswith("250 ")
    assert c.cmd("DATA") == ["354 OK"]
    c.send(MSG + b".\r\n")
    assert re.match(r"250 2\.0\.0 <user0@example\.com> \S+ Saved", c.line())
    assert c.cmd("QUIT") == ["221 2.0.0 Bye"]
    s.close()
    assert delivered(inst) == 1
    # plaintext on the TLS port is a failed handshake, never a session
    r = Raw(("127.0.0.1", tlsd.tls_port))
    r.send(b"LHLO plain\r\n")
    assert closed(r)
    r.close()


def swaks(*args):
    if shutil.which("swaks") is None:
        pytest.skip("swaks is not installed")
    return subprocess.run(["swaks", "--server", "127.0.0.1", "--protocol", "LMTP",
                           "--from", "sender@example.org", "--to", "user0@example.com",
                           *args], capture_output=True, text=True, timeout=60)


def test_swaks_starttls_and_tls_on_connect(tlsd, inst):
    r = swaks("--port", str(tlsd.port), "--tls")
    if "TLS requested but not available" in r.stdout + r.stderr:
        pytest.skip("swaks lacks IO::Socket::SSL (libio-socket-ssl-perl)")
    assert r.returncode == 0, r.stdout + r.stderr
    assert "=== TLS started with cipher" in r.stdout
    assert re.search(r"<~  250 2\.0\.0 <user0@example\.com> \S+ Saved", r.stdout)
    r = swaks("--port", str(tlsd.tls_port), "--tlsc")
    assert r.returncode == 0, r.stdout + r.stderr
    assert "=== TLS started with cipher" in r.stdout
    assert re.search(r"<~  250 2\.0\.0 <user0@example\.com> \S+ Saved", r.stdout)
    assert delivered(inst) == 2


def test_openssl_s_client_starttls_lmtp(tlsd):
    r = subprocess.run(["openssl", "s_client", "-connect", f"127.0.0.1:{tlsd.port}",
                        "-starttls", "lmtp", "-name", "testhost", "-CAfile", tlsd.cert,
                        "-verify_return_error", "-crlf", "-showcerts"],
                       input=b"", capture_output=True, timeout=30)
    out = r.stdout.decode()
    assert "Verify return code: 0 (ok)" in out, out + r.stderr.decode()
    pem = re.search(r"-----BEGIN CERTIFICATE-----.*?-----END CERTIFICATE-----", out, re.S)
    serial = subprocess.run(["openssl", "x509", "-noout", "-serial"], input=pem.group(0).encode(),
                            capture_output=True, check=True).stdout.decode()
    assert serial.strip() == "serial=1001"


def test_ssl_required_refuses_remote_plaintext(inst):
    d = TlsDaemon(inst, ssl_mode="required")
    d.start()
    try:
        # 127.0.0.2 -> 127.0.0.1: not the connection's own address
        s = socket.create_connection(("127.0.0.1", d.port), timeout=20,
                                     source_address=("127.0.0.2", 0))
        c = TlsRaw(s)
        c.line()
        assert c.cmd("LHLO remote")[-1] == "250 STARTTLS"
        assert c.cmd("NOOP") == ["250 2.0.0 OK"]
        for cmd in ("MAIL FROM:<sender@example.org>", "RCPT TO:<user0@example.com>",
                    "RSET", "VRFY user0", "DATA", "MAIL FROM:bad syntax"):
            assert c.cmd(cmd) == ["530 5.7.0 TLS required."], cmd
        # a refused chunk's octets are skipped, not read as commands
        c.send(b"BDAT 6 LAST\r\nRSET\r\n")
        assert c.reply() == ["530 5.7.0 TLS required."]
        assert c.cmd("NOOP") == ["250 2.0.0 OK"]
        assert c.cmd("STARTTLS") == ["220 2.0.0 Begin TLS negotiation now."]
        c = TlsRaw(client_context(d.cert).wrap_socket(s, server_hostname="testhost"))
        assert c.cmd("LHLO remote")[-1].startswith("250 SIZE")
        assert c.cmd("MAIL FROM:<sender@example.org>") == ["250 2.1.0 OK"]
        assert c.cmd("RCPT TO:<user0@example.com>")[0].startswith("250 ")
        assert c.cmd("DATA") == ["354 OK"]
        c.send(MSG + b".\r\n")
        assert re.match(r"250 2\.0\.0 <user0@example\.com> \S+ Saved", c.line())
        c.close()
        # local peers: 127.0.0.1 -> 127.0.0.1, and the UNIX socket
        for addr in (("127.0.0.1", d.port), d.socket):
            c = Raw(addr)
            c.line()
            assert c.cmd("MAIL FROM:<sender@example.org>") == ["250 2.1.0 OK"], addr
            c.close()
        assert delivered(inst) == 1
    finally:
        d.stop()


def test_plaintext_pipelined_after_starttls_is_discarded(tlsd, inst):
    """CVE-2011-0411: commands sent with STARTTLS before the handshake
    must not run inside the TLS session"""
    s = socket.create_connection(("127.0.0.1", tlsd.port), timeout=20)
    c = TlsRaw(s)
    c.line()
    c.cmd("LHLO x")
    c.send(b"STARTTLS\r\nMAIL FROM:<evil@example.org>\r\nRCPT TO:<user0@example.com>\r\n")
    assert c.line() == "220 2.0.0 Begin TLS negotiation now."
    assert c.buf == b""
    c = TlsRaw(client_context(tlsd.cert).wrap_socket(s, server_hostname="testhost"))
    # no reply to the injected commands arrives, and no transaction exists
    assert c.cmd("RCPT TO:<user0@example.com>") == ["503 5.5.0 MAIL needed first"]
    assert c.cmd("QUIT") == ["221 2.0.0 Bye"]
    c.close()
    injected = len(b"MAIL FROM:<evil@example.org>\r\nRCPT TO:<user0@example.com>\r\n")
    assert f"STARTTLS: discarding {injected} bytes sent before the TLS handshake" \
        in inst.log()
    assert delivered(inst) == 0


def test_handshake_failures_counted_and_logged(tlsd, inst):
    before = tlsd.metric("loft_tls_handshake_failures_total") or 0
    # garbage instead of a ClientHello
    r = Raw(("127.0.0.1", tlsd.tls_port))
    r.send(b"\x16\x03\x01\x00\x05hello garbage\r\n" * 4)
    assert closed(r)
    r.close()
    # a peer that goes away in the middle of the handshake
    sock = socket.create_connection(("127.0.0.1", tlsd.tls_port), timeout=20)
    incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
    obj = client_context(tlsd.cert).wrap_bio(incoming, outgoing, server_hostname="testhost")
    with pytest.raises(ssl.SSLWantReadError):
        obj.do_handshake()
    hello = outgoing.read()
    sock.sendall(hello[:len(hello) // 2])
    sock.close()
    # after STARTTLS, a client that never completes it
    r = Raw(("127.0.0.1", tlsd.port))
    r.line()
    assert r.cmd("STARTTLS") == ["220 2.0.0 Begin TLS negotiation now."]
    r.send(b"not a TLS record at all\r\n")
    assert closed(r)
    r.close()
    assert wait_for(lambda: (tlsd.metric("loft_tls_handshake_failures_total") or 0)
                    >= before + 3)
    log = tlsd.warnings()
    assert re.search(r"lmtp<\d+><[^>]+>: Warning: TLS handshake with 127\.0\.0\.1 failed: "
                     r"SSL_accept\(\) failed: error:", log), log
    assert "TLS handshake with 127.0.0.1 failed: SSL_accept() failed: Connection closed" \
        in inst.log() + log
    # every session is gone: nothing is left behind by the failures
    assert wait_for(lambda: (tlsd.metric("loft_sessions_active", service="lmtp") or 0) == 0)


def test_handshake_failure_log_is_rate_limited(tlsd, inst):
    before = tlsd.metric("loft_tls_handshake_failures_total") or 0
    for _ in range(14):
        r = Raw(("127.0.0.1", tlsd.tls_port))
        r.send(b"\x16\x03\x01\x00\x05garbage\r\n")
        assert closed(r)
        r.close()
    assert wait_for(lambda: (tlsd.metric("loft_tls_handshake_failures_total") or 0)
                    >= before + 14)
    logged = re.findall(r"Warning: TLS handshake with 127\.0\.0\.1 failed", tlsd.warnings())
    assert 1 <= len(logged) <= 10 * len(tlsd.children())


def test_reload_swaps_certificate_and_keeps_it_on_error(tlsd, inst):
    assert tlsd.served_serial() == 0x1001
    cert_b, key_b = make_cert(tlsd.certdir, "b", 0x2002)
    tlsd.install(cert_b, key_b)
    r = subprocess.run([binary("loftd"), "-c", inst.conf, "reload"], capture_output=True,
                       text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert wait_for(lambda: tlsd.served_serial() == 0x2002, timeout=20)
    # a key that does not match: the reload fails, LMTP keeps serving b
    cert_c, _ = make_cert(tlsd.certdir, "c", 0x3003)
    tlsd.install(cert_c, key_b)
    r = subprocess.run([binary("loftd"), "-c", inst.conf, "reload"], capture_output=True,
                       text=True, timeout=60)
    assert r.returncode != 0
    assert "ssl_key: does not match ssl_cert" in r.stderr
    os.kill(tlsd.proc.pid, __import__("signal").SIGHUP)
    assert wait_for(lambda: "ssl_key: does not match ssl_cert" in tlsd.warnings())
    time.sleep(0.5)
    assert tlsd.served_serial() == 0x2002
    assert tlsd.connectable()


def check(inst, extra):
    inst.write_conf(extra=extra)
    return subprocess.run([binary("loftd"), "-c", inst.conf, "--check"],
                          capture_output=True, text=True, timeout=30)


def test_check_refuses_bad_tls_settings(inst):
    cert, key = make_cert(inst.root, "x", 7)
    _, other_key = make_cert(inst.root, "y", 8)
    good = f"ssl_cert = <{cert}\nssl_key = <{key}\n"
    r = check(inst, "service lmtp {\n inet_listener lmtps {\n port = 10025\n ssl = yes\n }\n}\n")
    assert r.returncode != 0
    assert re.search(r"loft\.conf:\d+: service\(lmtp\): inet_listener lmtps: ssl = yes, "
                     r"but ssl = no", r.stderr), r.stderr
    r = check(inst, "ssl = yes\n")
    assert r.returncode != 0 and "ssl_cert is not set" in r.stderr
    r = check(inst, f"ssl = yes\nssl_cert = {cert}\nssl_key = <{key}\n")
    assert r.returncode != 0
    assert f"You probably forgot '<' from ssl_cert=<{cert}" in r.stderr
    r = check(inst, f"ssl = yes\nssl_cert = <{cert}\nssl_key = <{other_key}\n")
    assert r.returncode != 0 and "ssl_key: does not match ssl_cert" in r.stderr
    r = check(inst, "ssl = yes\n" + good + "ssl_min_protocol = TLSv9\n")
    assert r.returncode != 0 and re.search(r"loft\.conf:\d+: .*TLSv9", r.stderr), r.stderr
    r = check(inst, "ssl = yes\n" + good + "ssl_cipher_list = NOSUCHCIPHER\n")
    assert r.returncode != 0 and "ssl_cipher_list" in r.stderr
    r = check(inst, "ssl = yes\n" + good + "service stats {\n inet_listener http {\n"
              " port = 10026\n ssl = yes\n }\n}\n")
    assert r.returncode != 0 and "loft serves TLS on LMTP listeners only" in r.stderr
    r = check(inst, "ssl = required\n" + good + "ssl_min_protocol = TLSv1.3\n"
              "ssl_prefer_server_ciphers = yes\nssl_cipher_suites = TLS_AES_128_GCM_SHA256\n"
              "ssl_curve_list = X25519:P-256\n")
    assert r.returncode == 0, r.stderr


def test_encrypted_key_and_dh_params(inst):
    cert, key = make_cert(inst.root, "k", 9)
    enc = os.path.join(inst.root, "k.enc")
    subprocess.run(["openssl", "pkey", "-in", key, "-out", enc, "-aes256",
                    "-passout", "pass:s3cret"], check=True, capture_output=True)
    dh = os.path.join(inst.root, "dh.pem")
    # a named group: no slow prime generation
    subprocess.run(["openssl", "genpkey", "-genparam", "-algorithm", "DH",
                    "-pkeyopt", "group:ffdhe2048", "-out", dh],
                   check=True, capture_output=True, timeout=120)
    base = f"ssl = yes\nssl_cert = <{cert}\nssl_key = <{enc}\n"
    r = check(inst, base)
    assert r.returncode != 0 and "ssl_key_password is not set" in r.stderr
    r = check(inst, base + "ssl_key_password = wrong\n")
    assert r.returncode != 0 and "ssl_key" in r.stderr
    r = check(inst, base + f"ssl_key_password = s3cret\nssl_dh = <{dh}\n")
    assert r.returncode == 0, r.stderr
    r = check(inst, base + f"ssl_key_password = s3cret\nssl_dh = <{cert}\n")
    assert r.returncode != 0 and "ssl_dh" in r.stderr
    # -n hides the key and its password
    inst.write_conf(extra=base + "ssl_key_password = s3cret\n")
    out = subprocess.run([binary("loftd"), "-c", inst.conf, "-n"], capture_output=True,
                         text=True, timeout=30).stdout
    assert "ssl_key = # hidden" in out and "ssl_key_password = # hidden" in out
    assert "s3cret" not in out and "ENCRYPTED" not in out


def postfix_instance(folder, lmtp_port, cafile, level):
    """a private Postfix (config and queue under folder, no listener of
    its own) whose every message goes to loft over LMTP with
    lmtp_tls_security_level = level"""
    os.makedirs(os.path.join(folder, "queue"))
    os.makedirs(os.path.join(folder, "data"))
    shutil.chown(os.path.join(folder, "data"), "postfix")
    shutil.copyfile("/etc/postfix/master.cf", os.path.join(folder, "master.cf"))
    with open(os.path.join(folder, "main.cf"), "w") as f:
        f.write(f"""compatibility_level = 3.6
queue_directory = {folder}/queue
data_directory = {folder}/data
mail_owner = postfix
setgid_group = postdrop
myhostname = testhost
mydomain = localdomain
mydestination =
inet_interfaces = loopback-only
inet_protocols = ipv4
master_service_disable = inet
default_transport = lmtp:inet:127.0.0.1:{lmtp_port}
lmtp_tls_security_level = {level}
lmtp_tls_CAfile = {cafile}
lmtp_tls_loglevel = 1
maillog_file_prefixes = {folder}
maillog_file = {folder}/maillog
""")


@pytest.mark.skipif(os.geteuid() != 0 or shutil.which("postfix") is None
                    or not os.path.exists("/etc/postfix/master.cf"),
                    reason="needs root and Postfix")
def test_postfix_lmtp_tls_security_level_encrypt(inst):
    d = TlsDaemon(inst, ssl_mode="required")
    d.start()
    pf = os.path.join(inst.root, "postfix")
    postfix_instance(pf, d.port, d.cert, "secure")
    try:
        r = subprocess.run(["postfix", "-c", pf, "start"], capture_output=True, text=True,
                           timeout=120)
        assert r.returncode == 0, r.stdout + r.stderr
        r = subprocess.run(["sendmail", "-C", pf, "-f", "sender@example.org",
                            "user0@example.com"], input=MSG, capture_output=True, timeout=60)
        assert r.returncode == 0, r.stderr
        def maillog():
            with open(os.path.join(pf, "maillog")) as f:
                return f.read()
        assert wait_for(lambda: "status=sent" in maillog(), timeout=60), maillog()
        assert delivered(inst) == 1
        log = maillog()
        # secure: the certificate was verified for the name Postfix expects
        assert re.search(r"postfix/lmtp\[\d+\]: Verified TLS connection established to "
                         r"127\.0\.0\.1\[127\.0\.0\.1\]:\d+: TLSv1\.3", log), log
        assert re.search(r"status=sent \(250 2\.0\.0 <user0@example\.com> \S+ Saved\)", log)
    finally:
        subprocess.run(["postfix", "-c", pf, "stop"], capture_output=True, timeout=120)
        d.stop()


def test_client_certificate_required_with_ssl_verify_client_cert(inst):
    client_cert, client_key = make_cert(inst.root, "client", 5)
    d = TlsDaemon(inst, extra=f"""
        ssl_ca = <{client_cert}
        ssl_verify_client_cert = yes
        """).add_tls_listener()
    d.start()
    try:
        ctx = client_context(d.cert)
        ctx.load_cert_chain(client_cert, client_key)
        with ctx.wrap_socket(socket.create_connection(("127.0.0.1", d.tls_port), timeout=20),
                             server_hostname="testhost") as s:
            c = TlsRaw(s)
            assert c.line() == "220 testhost loft ready."
        # without a certificate the handshake fails (TLS 1.3: the client
        # learns it at its first read)
        with pytest.raises((ssl.SSLError, ConnectionResetError, EOFError)):
            with d.tls_socket() as s:
                c = TlsRaw(s)
                c.line()
        assert wait_for(lambda: (d.metric("loft_tls_handshake_failures_total") or 0) >= 1)
        assert re.search(r"TLS handshake with 127\.0\.0\.1 failed: SSL_accept\(\) failed: "
                         r"error:\S+:SSL routines::peer did not return a certificate",
                         d.warnings())
    finally:
        d.stop()


def test_haproxy_header_before_tls(inst):
    """on a haproxy = yes, ssl = yes listener the PROXY header comes
    first, in plaintext, then the handshake; ssl = required judges the
    client by the header's addresses"""
    d = TlsDaemon(inst, ssl_mode="required", extra="haproxy_trusted_networks = 127.0.0.1\n")
    d.add_tls_listener()
    proxied_port = _free_port_other_than(d.port, d.http_port, d.tls_port)
    with open(inst.conf) as f:
        text = f.read()
    text = text.replace("    ssl = yes\n", "    ssl = yes\n    haproxy = yes\n", 1)
    text = text.replace("  unix_listener lmtp {", f"""  inet_listener proxied {{
    address = 127.0.0.1
    port = {proxied_port}
    haproxy = yes
  }}
  unix_listener lmtp {{""", 1)
    with open(inst.conf, "w") as f:
        f.write(text)
    d.start()
    try:
        raw = socket.create_connection(("127.0.0.1", d.tls_port), timeout=20)
        raw.sendall(b"PROXY TCP4 192.0.2.7 127.0.0.1 5555 24\r\n")
        s = client_context(d.cert).wrap_socket(raw, server_hostname="testhost")
        c = TlsRaw(s)
        assert c.line() == "220 testhost loft ready."
        assert c.cmd("MAIL FROM:<sender@example.org>") == ["250 2.1.0 OK"]
        s.close()
        assert re.search(r"Info: Connect from 192\.0\.2\.7$", inst.log(), re.M)
        # plaintext through the proxy: remote unless the header says the
        # client is the proxy host talking to itself
        for header, reply in ((b"PROXY TCP4 192.0.2.7 127.0.0.1 5555 24\r\n",
                               "530 5.7.0 TLS required."),
                              (b"PROXY TCP4 10.1.1.1 10.1.1.1 5555 24\r\n", "250 2.1.0 OK")):
            c = Raw(("127.0.0.1", proxied_port))
            c.send(header)
            c.line()
            assert c.cmd("MAIL FROM:<sender@example.org>") == [reply], header
            c.close()
    finally:
        d.stop()


def cpu_seconds(pids):
    total = 0
    for pid in pids:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


def test_backed_up_tls_output_then_idle_costs_no_cpu(tlsd):
    """replies the client does not read fill the socket (SSL_write would
    block), the client then reads them all, and the idle session after
    that must not keep the loop spinning"""
    import threading
    count = 100000
    s = tlsd.tls_socket()
    c = TlsRaw(s)
    c.line()
    got = []

    def reader():
        time.sleep(1.0)
        n = 0
        buf = b""
        while n < count:
            buf += s.recv(65536)
            n += buf.count(b"\n")
            buf = buf[buf.rfind(b"\n") + 1:]
        got.append(n)

    t = threading.Thread(target=reader)
    t.start()
    s.sendall(b"NOOP\r\n" * count)
    t.join(60)
    assert got == [count]
    time.sleep(0.5)
    pids = tlsd.children()
    before = cpu_seconds(pids)
    time.sleep(2)
    assert cpu_seconds(pids) - before < 0.5
    c = TlsRaw(s)
    assert c.cmd("NOOP") == ["250 2.0.0 OK"]
    s.close()


@pytest.mark.skipif(os.geteuid() != 0, reason="reads other processes' fds")
def test_private_key_only_in_lmtp_snapshot(tlsd):
    def snapshot(pid):
        with open(f"/proc/{pid}/fd/3") as f:
            return f.read()
    lmtp = snapshot(tlsd.children("loft-lmtp")[0])
    assert "-----BEGIN PRIVATE KEY-----" in lmtp
    for name in ("loft-stats", "loft-log"):
        pids = tlsd.children(name)
        assert pids, name
        for pid in pids:
            text = snapshot(pid)
            assert "-----BEGIN PRIVATE KEY-----" not in text, name
            assert re.search(r'^ssl_key = ""$', text, re.M), name
            assert "-----BEGIN CERTIFICATE-----" in text  # the rest is there


def test_alt_cert_and_ssl_options(inst):
    rsa_cert, rsa_key = make_cert(inst.root, "rsa", 0x4004, rsa=True)
    d = TlsDaemon(inst, extra=f"""
        ssl_alt_cert = <{rsa_cert}
        ssl_alt_key = <{rsa_key}
        ssl_options = no_compression no_ticket
        """).add_tls_listener()
    d.start()
    try:
        def serial_for(ciphers):
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
            ctx.maximum_version = ssl.TLSVersion.TLSv1_2
            ctx.set_ciphers(ciphers)
            raw = socket.create_connection(("127.0.0.1", d.tls_port), timeout=20)
            with ctx.wrap_socket(raw) as s:
                return serial_of_der(s.getpeercert(binary_form=True))
        assert serial_for("ECDHE-ECDSA-AES128-GCM-SHA256") == 0x1001
        assert serial_for("ECDHE-RSA-AES128-GCM-SHA256") == 0x4004
        # no_ticket: no session ticket in a TLS 1.2 handshake
        r = subprocess.run(["openssl", "s_client", "-connect", f"127.0.0.1:{d.tls_port}",
                            "-tls1_2"], input=b"", capture_output=True, timeout=30)
        assert b"Protocol  : TLSv1.2" in r.stdout and b"TLS session ticket:" not in r.stdout
    finally:
        d.stop()
    r = check(inst, f"ssl = yes\nssl_cert = <{rsa_cert}\nssl_key = <{rsa_key}\n"
              "ssl_options = no_sslv2\n")
    assert r.returncode != 0 and "ssl_options: unknown option no_sslv2" in r.stderr
    r = check(inst, f"ssl = yes\nssl_cert = <{rsa_cert}\nssl_key = <{rsa_key}\n"
              f"ssl_alt_cert = <{rsa_cert}\n")
    assert r.returncode != 0 and "ssl_alt_cert and ssl_alt_key go together" in r.stderr
