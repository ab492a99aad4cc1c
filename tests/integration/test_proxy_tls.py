"""The LMTP proxy's TLS to its backends, with Dovecot's fields: real loft
backends serving TLS with certificates of a test CA (made here with the
openssl command), a loft proxy with ssl_client_ca_file = that CA.
ssl=yes (TLS from the start) and starttls=yes (STARTTLS after LHLO) are
verified against the CA and the host field; a certificate for another
name is refused, which costs only its recipients a 451, and any-cert
takes it."""
import os
import subprocess

from conftest import wait_for
from test_lmtp_proxy import fleet, transaction  # noqa: F401 (fixture)


def openssl(*args):
    subprocess.run(["openssl", *args], check=True, capture_output=True)


def make_ca(folder):
    """a test CA: (cert path, key path)"""
    cert, key = os.path.join(folder, "ca.pem"), os.path.join(folder, "ca.key")
    openssl("req", "-x509", "-newkey", "ec", "-pkeyopt",
            "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", key,
            "-out", cert, "-days", "2", "-subj", "/CN=loft test CA",
            "-addext", "basicConstraints=critical,CA:TRUE",
            "-addext", "keyUsage=critical,keyCertSign")
    return cert, key


def issue(folder, ca, name, san):
    """a server certificate signed by ca for subjectAltName san"""
    cert, key = (os.path.join(folder, f"{name}.pem"),
                 os.path.join(folder, f"{name}.key"))
    csr = os.path.join(folder, f"{name}.csr")
    ext = os.path.join(folder, f"{name}.ext")
    with open(ext, "w") as f:
        f.write(f"subjectAltName={san}\nextendedKeyUsage=serverAuth\n")
    openssl("req", "-new", "-newkey", "ec", "-pkeyopt",
            "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", key,
            "-out", csr, "-subj", f"/CN={name}")
    openssl("x509", "-req", "-in", csr, "-CA", ca[0], "-CAkey", ca[1],
            "-CAcreateserial", "-out", cert, "-days", "2", "-extfile", ext)
    return cert, key


def tls_backend(instance, start, users, cert, port):
    """a loft backend offering STARTTLS on its listener and TLS from the
    start on port"""
    inst = instance(users)
    d = start(inst, extra=f"ssl = yes\nssl_cert = <{cert[0]}\n"
              f"ssl_key = <{cert[1]}\n",
              service_extra=f"inet_listener lmtps {{\n address = 127.0.0.1\n"
              f" port = {port}\n ssl = yes\n}}\n")
    return inst, d


def route(user, host, port, tls):
    return (f"{user}:::::::userdb_proxy=y userdb_host={host} "
            f"userdb_port={port} userdb_{tls}")


def test_tls_to_backends(fleet):
    from test_lmtp_proxy import unused_port
    instance, start = fleet
    certs = instance([]).root
    ca = make_ca(certs)
    good = issue(certs, ca, "backend-a", "DNS:localhost,IP:127.0.0.1")
    wrong = issue(certs, ca, "backend-b", "DNS:wronghost")
    a_tls, b_tls = unused_port(), unused_port()
    a_inst, a = tls_backend(instance, start, ["alice@example.com",
                                              "carol@example.com"], good, a_tls)
    b_inst, b = tls_backend(instance, start, ["bob@example.com",
                                              "bert@example.com"], wrong, b_tls)
    p_inst = instance([])
    p_inst.users = [
        # TLS at once, verified by name (SNI sent) and by address
        route("alice@example.com", "localhost", a_tls, "ssl=yes"),
        route("carol@example.com", "127.0.0.1", a.port, "starttls=yes"),
        # the certificate names wronghost: refused, then taken as any-cert
        route("bob@example.com", "127.0.0.1", b.port, "starttls=yes"),
        route("bert@example.com", "127.0.0.1", b_tls, "ssl=any-cert"),
    ]
    p_inst.write_passwd()
    # the proxy runs as nobody; it reads the CAs before dropping root's
    # privileges, so a file only root can read is enough
    os.chmod(ca[0], 0o600)
    p = start(p_inst, extra=f"lmtp_proxy = yes\nssl_client_ca_file = {ca[0]}\n",
              service_extra="user = nobody")
    got = transaction(p.port, ["alice@example.com", "bob@example.com",
                               "carol@example.com", "bert@example.com"])
    for user in ("alice@example.com", "carol@example.com", "bert@example.com"):
        assert got[user][0] == 250 and "Saved" in got[user][1], got
    assert got["bob@example.com"][0] == 451, got
    assert "4.4.0" in got["bob@example.com"][1]
    assert len(a_inst.new_files("alice@example.com")) == 1
    assert len(a_inst.new_files("carol@example.com")) == 1
    assert len(b_inst.new_files("bert@example.com")) == 1
    assert not os.path.exists(b_inst.home("bob@example.com"))
    # why, in the proxy's log; the backends served the messages over TLS
    assert wait_for(lambda: "certificate: IP address mismatch" in
                    p_inst.log("loft.log")), p_inst.log("loft.log")
    assert a_inst.log().count("TLS: TLSv1.3") >= 2
    assert "TLS: TLSv1.3" in b_inst.log()
    # and the proxy logs each TLS connection it opened
    log = p_inst.log()
    assert f"proxy: localhost:{a_tls}: TLS: TLSv1.3" in log
    assert f"proxy: 127.0.0.1:{b_tls}: TLS: TLSv1.3" in log and \
        "(certificate not checked)" in log

    # ssl_client_require_valid_cert = no: as if every route said any-cert
    p.stop()
    p = start(p_inst, extra=f"lmtp_proxy = yes\nssl_client_ca_file = {ca[0]}\n"
              "ssl_client_require_valid_cert = no\n")
    got = transaction(p.port, ["bob@example.com"])
    assert got["bob@example.com"][0] == 250, got
    assert len(b_inst.new_files("bob@example.com")) == 1


def test_tls_without_the_ca(fleet):
    """A proxy without the test CA (OpenSSL's default CAs) refuses the
    backend's certificate: 451, while its plaintext backend goes on"""
    from test_lmtp_proxy import unused_port
    instance, start = fleet
    certs = instance([]).root
    ca = make_ca(certs)
    good = issue(certs, ca, "backend-a", "IP:127.0.0.1")
    a_inst, a = tls_backend(instance, start, ["alice@example.com",
                                              "carol@example.com"], good,
                            unused_port())
    p_inst = instance([])
    p_inst.users = [
        route("alice@example.com", "127.0.0.1", a.port, "starttls=yes"),
        f"carol@example.com:::::::userdb_proxy=y userdb_host=127.0.0.1 "
        f"userdb_port={a.port}",
    ]
    p_inst.write_passwd()
    p = start(p_inst, extra="lmtp_proxy = yes\n")
    got = transaction(p.port, ["alice@example.com", "carol@example.com"])
    assert got["alice@example.com"][0] == 451, got
    assert got["carol@example.com"][0] == 250, got
    assert wait_for(lambda: "unable to get local issuer certificate" in
                    p_inst.log("loft.log")), p_inst.log("loft.log")


def test_check_refuses_a_bad_ca_file(fleet):
    """loftd --check reads the proxy's CAs as loft-lmtp would: a path with
    no certificate is refused by name; without lmtp_proxy it is unused"""
    from conftest import binary
    instance, _ = fleet
    inst = instance([])
    bad = os.path.join(inst.root, "not-a-ca.pem")
    with open(bad, "w") as f:
        f.write("no certificate here\n")
    for extra, want in [(f"lmtp_proxy = yes\nssl_client_ca_file = {bad}\n", 1),
                        (f"ssl_client_ca_file = {bad}\n", 0)]:
        inst.write_conf(extra=extra)
        r = subprocess.run([binary("loftd"), "-c", inst.conf, "--check"],
                           capture_output=True, text=True, timeout=60)
        assert r.returncode == want, (extra, r.stderr)
        if want:
            assert f"ssl_client_ca_file: {bad}: no CA certificates read" in \
                r.stderr, r.stderr
