"""HTTPS over the real binary, read by Python's ssl: the self-signed
certificate verified by the fingerprint the journal gives, the protocol floor,
a certificate from a test CA, and a renewed one served after SIGHUP without a
restart. testssl.sh (Debian's) scans the listener."""

import hashlib
import os
import re
import shutil
import signal
import socket
import ssl
import subprocess
import tempfile
import time
import unittest

from evsed_harness import Evsed, free_port, wait_until


def fingerprint_of(der):
    return ":".join(f"{b:02X}" for b in hashlib.sha256(der).digest())


def logged_fingerprint(evsed):
    for line in reversed(evsed.log):
        m = re.search(r"SHA-256 fingerprint ([0-9A-F:]{95})", line)
        if m:
            return m.group(1)
    return None


def tls_get(port, context, path="/settings"):
    with socket.create_connection(("127.0.0.1", port), timeout=5) as raw:
        with context.wrap_socket(raw, server_hostname="127.0.0.1") as s:
            s.sendall(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".encode())
            data = b""
            while chunk := s.recv(65536):
                data += chunk
            return s.getpeercert(binary_form=True), s.version(), data.decode(errors="replace")


def make_ca_and_cert(d, name="server"):
    """A test CA and a certificate for 127.0.0.1 it signed (Debian's openssl)."""
    def run(*a):
        subprocess.run(a, check=True, capture_output=True, cwd=d)
    if not os.path.exists(os.path.join(d, "ca.pem")):
        run("openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "2",
            "-subj", "/CN=evsed test CA", "-keyout", "ca.key", "-out", "ca.pem")
    run("openssl", "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-subj", f"/CN={name}",
        "-keyout", f"{name}.key", "-out", f"{name}.csr")
    with open(os.path.join(d, "ext.cnf"), "w") as f:
        f.write("subjectAltName=IP:127.0.0.1\n")
    run("openssl", "x509", "-req", "-in", f"{name}.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
        "-days", "2", "-extfile", "ext.cnf", "-out", f"{name}.pem")
    return os.path.join(d, f"{name}.pem"), os.path.join(d, f"{name}.key")


class RedirectTest(unittest.TestCase):
    """[http] redirect_to_https: strangers are sent to HTTPS (308), the allow-listed stay on HTTP."""

    def test_plain_http_goes_to_https_except_allow_listed(self):
        import http.client
        tls_port = free_port()
        text = (f'[http]\ntls_listen = "127.0.0.1:{tls_port}"\nredirect_to_https = true\ntrusted_networks = []\n'
                'plain_http_from = ["127.0.0.2"]\n')
        with Evsed(config_text=text) as evsed:
            evsed.wait_ready()
            self.assertTrue(wait_until(lambda: logged_fingerprint(evsed), 5), evsed.log)

            def ask(source, method="GET", path="/settings"):
                c = http.client.HTTPConnection("127.0.0.1", evsed.port, timeout=5, source_address=(source, 0))
                c.request(method, path, headers={"Host": f"127.0.0.1:{evsed.port}"})
                r = c.getresponse()
                out = (r.status, r.getheader("Location"), r.read())
                c.close()
                return out

            status, location, _ = ask("127.0.0.1", "POST", "/settings?mode=3")
            self.assertEqual(status, 308)
            self.assertEqual(location, f"https://127.0.0.1:{tls_port}/settings?mode=3")
            self.assertEqual(ask("127.0.0.2")[0], 200, "an allow-listed client (an old evcc) stays on HTTP")
            # Where the redirect points answers, over TLS.
            ctx = ssl.create_default_context(cafile=os.path.join(evsed.state_dir, "tls", "cert.pem"))
            _, _, reply = tls_get(tls_port, ctx)
            self.assertTrue(reply.startswith("HTTP/1.1 200"), reply[:100])

    def test_the_redirect_needs_an_https_listener(self):
        import tempfile as tf
        from evsed_harness import BINARY
        with tf.NamedTemporaryFile("w", suffix=".toml") as f, tf.TemporaryDirectory() as d:
            f.write("[http]\nredirect_to_https = true\n")
            f.flush()
            r = subprocess.run([BINARY, "--check-config", "--config", f.name, "--state-dir", d], capture_output=True, text=True)
        self.assertEqual(r.returncode, 78)
        self.assertIn("http.redirect_to_https needs http.tls_listen", r.stdout + r.stderr)


class SelfSignedTest(unittest.TestCase):
    def test_made_once_pinned_by_its_fingerprint_and_tls12_at_least(self):
        port = free_port()
        import tempfile as tf
        keep = tf.mkdtemp(prefix="evsed-tls-")
        self.addCleanup(shutil.rmtree, keep, True)
        with Evsed(config_text=f'[http]\ntls_listen = "127.0.0.1:{port}"\n', state_dir=keep) as evsed:
            evsed.wait_ready()
            self.assertTrue(wait_until(lambda: logged_fingerprint(evsed), 5), evsed.log)
            pinned = logged_fingerprint(evsed)
            cert = os.path.join(evsed.state_dir, "tls", "cert.pem")
            self.assertEqual(os.stat(os.path.join(evsed.state_dir, "tls", "key.pem")).st_mode & 0o777, 0o600)
            ctx = ssl.create_default_context(cafile=cert)  # the certificate is its own CA: verified, not ignored
            der, version, reply = tls_get(port, ctx)
            self.assertEqual(fingerprint_of(der), pinned)
            self.assertIn(version, ("TLSv1.2", "TLSv1.3"))
            self.assertTrue(reply.startswith("HTTP/1.1 200"), reply[:200])
            self.assertIn('"serialnr"', reply)
            old = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
            old.check_hostname = False
            old.verify_mode = ssl.CERT_NONE
            try:
                old.minimum_version = ssl.TLSVersion.TLSv1
                old.maximum_version = ssl.TLSVersion.TLSv1_1
                old.set_ciphers("ALL:@SECLEVEL=0")
            except (ValueError, ssl.SSLError):
                self.skipTest("this Python's OpenSSL cannot even offer TLS 1.1")
            with self.assertRaises((ssl.SSLError, ConnectionResetError, OSError)):
                tls_get(port, old)
            # Plain HTTP on the TLS port is not answered as HTTP.
            with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
                s.sendall(b"GET /settings HTTP/1.1\r\nHost: x\r\n\r\n")
                self.assertNotIn(b"serialnr", s.recv(4096))
        # Made once: the next start serves the same one.
        state = evsed.state_dir
        with Evsed(config_text=f'[http]\ntls_listen = "127.0.0.1:{port}"\n', state_dir=state) as again:
            again.wait_ready()
            self.assertTrue(wait_until(lambda: logged_fingerprint(again), 5), again.log)
            self.assertEqual(logged_fingerprint(again), pinned)
            self.assertFalse(any("made a self-signed" in l for l in again.log))


class OwnCertificateTest(unittest.TestCase):
    def test_a_ca_signed_certificate_and_its_renewal_on_sighup(self):
        with tempfile.TemporaryDirectory() as d:
            cert, key = make_ca_and_cert(d)
            port = free_port()
            live_cert, live_key = os.path.join(d, "live.pem"), os.path.join(d, "live.key")
            shutil.copy(cert, live_cert)
            shutil.copy(key, live_key)
            config = f'[http]\ntls_listen = "127.0.0.1:{port}"\ntls_cert = "{live_cert}"\ntls_key = "{live_key}"\n'
            with Evsed(config_text=config) as evsed:
                evsed.wait_ready()
                ctx = ssl.create_default_context(cafile=os.path.join(d, "ca.pem"))
                first, _, reply = tls_get(port, ctx)
                self.assertTrue(reply.startswith("HTTP/1.1 200"))
                # Renewed in place, then SIGHUP: new connections get the new one, same process.
                cert2, key2 = make_ca_and_cert(d, "renewed")
                shutil.copy(cert2, live_cert)
                shutil.copy(key2, live_key)
                pid = evsed.proc.pid
                evsed.proc.send_signal(signal.SIGHUP)
                self.assertTrue(wait_until(lambda: tls_get(port, ctx)[0] != first, 5), "the renewed certificate is not served")
                self.assertEqual(evsed.proc.pid, pid)
                self.assertIsNone(evsed.proc.poll())
                # A broken renewal keeps the one in force.
                with open(live_key, "w") as f:
                    f.write("not a key\n")
                evsed.proc.send_signal(signal.SIGHUP)
                self.assertTrue(evsed.wait_log("the certificate in force stays", 5), evsed.log)
                self.assertTrue(tls_get(port, ctx)[2].startswith("HTTP/1.1 200"))


@unittest.skipUnless(shutil.which("testssl.sh") or shutil.which("testssl"), "testssl.sh is not installed")
class TestsslScanTest(unittest.TestCase):
    def test_no_protocol_or_cipher_below_the_floor(self):
        port = free_port()
        with Evsed(config_text=f'[http]\ntls_listen = "127.0.0.1:{port}"\n') as evsed:
            evsed.wait_ready()
            tool = shutil.which("testssl.sh") or shutil.which("testssl")
            r = subprocess.run([tool, "--quiet", "--color", "0", "--warnings", "off", "--protocols", "--std",
                                f"127.0.0.1:{port}"], capture_output=True, text=True, timeout=280)
            out = r.stdout
            self.assertIn("Testing protocols", out, out + r.stderr)
            for proto in ("SSLv2", "SSLv3", "TLS 1 ", "TLS 1.1"):
                line = next((l for l in out.splitlines() if l.strip().startswith(proto)), "")
                self.assertIn("not offered", line, f"{proto}:\n{out}")
            line = next((l for l in out.splitlines() if "TLS 1.2" in l and "offered" in l), "")
            self.assertIn("offered", line, out)
            for weak in ("NULL ciphers", "Anonymous NULL", "Export ciphers", "LOW: 64 Bit", "Triple DES", "Obsolete CBC"):
                line = next((l for l in out.splitlines() if weak in l), None)
                if line is not None:
                    self.assertIn("not offered", line, f"{weak}:\n{out}")


if __name__ == "__main__":
    unittest.main()
