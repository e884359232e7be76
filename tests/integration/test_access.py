"""Who may control the charger, over the real binary: accounts made with
`evsed passwd`, HTTP Basic, API tokens (revoked at once), the three modes,
trusted networks, failed-login throttling, cross-site posts, and a secrets
sweep of every answer and the log. `trusted_networks = []` makes the tests'
own loopback connections count as strangers."""

import base64
import json
import os
import socket
import subprocess
import time
import unittest

from evsed_harness import BINARY, Evsed, Http, wait_until

ADMIN_PW = "correct horse battery"
VIEWER_PW = "viewer-password-1"
MQTT_PW = "mqtt-secret-pw-77"


def basic(user, password):
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


def bearer(token):
    return {"Authorization": "Bearer " + token}


def passwd(state_dir, user, password, role="admin"):
    r = subprocess.run([BINARY, "passwd", user, "--role", role, "--state-dir", state_dir], input=password + "\n",
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, r.stderr
    return r


def config(mode, trusted="[]"):
    return f'[http]\nauth = "{mode}"\ntrusted_networks = {trusted}\n'


# Every endpoint that changes something, as a client would call it.
WRITES = [
    "/settings?mode=0", "/settings?override_current=100", "/currents?L1=10&L2=10&L3=10", "/ev_meter?L1=1&L2=1&L3=1",
    "/modem?pwm=500", "/color_off?R=1&G=2&B=3", "/cablelock?1", "/reboot", "/erasesettings",
    "/sessions/1?note=x", "/tokens?name=intruder", "/simulator?ev=C",
    "/settings?mqtt_update=1&mqtt_host=evil.example&mqtt_port=1883",
]


class AccessCase(unittest.TestCase):
    mode = "writes"

    def setUp(self):
        self.tmp_state = None
        self.evsed = Evsed(config_text=config(self.mode), state_dir=self.state())
        self.evsed.wait_ready()
        self.http = Http(self.evsed.port)

    def state(self):
        import tempfile
        self._state = tempfile.TemporaryDirectory(prefix="evsed-access-")
        passwd(self._state.name, "admin", ADMIN_PW)
        passwd(self._state.name, "watcher", VIEWER_PW, role="viewer")
        return self._state.name

    def tearDown(self):
        self.evsed.close()
        self._state.cleanup()

    def snapshot(self):
        r = self.http.get("/settings", headers=basic("admin", ADMIN_PW))
        self.assertEqual(r.status, 200, r)
        s = r.json()
        return (s["mode"], s["settings"]["override_current"], s["mqtt"]["host"], s["color"]["off"])


class WritesModeTest(AccessCase):
    def test_writes_need_an_admin_and_change_nothing_without_one(self):
        self.assertEqual(self.http.get("/settings").status, 200, "reading is open")
        before = self.snapshot()
        for path in WRITES:
            r = self.http.post(path)
            self.assertEqual(r.status, 401, (path, r))
            self.assertIn("Basic", {k.lower(): v for k, v in r.headers.items()}["www-authenticate"])
            r = self.http.post(path, headers=basic("watcher", VIEWER_PW))
            self.assertEqual(r.status, 403, (path, r))
            self.assertIn("admin", r.json()["error"])
            r = self.http.post(path, headers=basic("admin", "wrong password"))
            self.assertIn(r.status, (401, 429), (path, r))
            # The throttle counts these too: clear it with a good login.
            self.assertEqual(self.http.get("/whoami", headers=basic("admin", ADMIN_PW)).status,
                             200 if r.status == 401 else 429)
            if r.status == 429:
                time.sleep(int(r.headers.get("Retry-After", "1")) + 0.2)
        self.assertEqual(self.snapshot(), before, "nothing changed")
        self.assertTrue(self.evsed.proc.poll() is None, "reboot/erasesettings did not run")

    def test_an_admin_by_password_and_by_token(self):
        r = self.http.post("/settings?mode=3", headers=basic("admin", ADMIN_PW))
        self.assertEqual(r.status, 200, r)
        self.assertEqual(self.http.settings()["mode"], "SMART")
        self.assertEqual(self.http.get("/whoami", headers=basic("admin", ADMIN_PW)).json()["role"], "admin")

        made = self.http.post("/tokens?name=evcc&role=admin", headers=basic("admin", ADMIN_PW))
        self.assertEqual(made.status, 201, made)
        token, token_id = made.json()["token"], made.json()["id"]
        self.assertTrue(token.startswith("evsed_"))
        self.assertEqual(self.http.post("/settings?mode=1", headers=bearer(token)).status, 200)
        self.assertEqual(self.http.settings()["mode"], "NORMAL")
        listed = self.http.get("/tokens", headers=bearer(token))
        self.assertEqual(listed.status, 200)
        self.assertEqual([t["name"] for t in listed.json()["tokens"]], ["evcc"])
        self.assertNotIn(token, listed.text, "a listed token has no secret")
        self.assertEqual(self.http.get("/tokens").status, 401, "the token list is an admin's")
        with open(os.path.join(self.evsed.state_dir, "tokens.json")) as f:
            stored = f.read()
        self.assertNotIn(token, stored, "only a digest is stored")
        self.assertEqual(os.stat(os.path.join(self.evsed.state_dir, "tokens.json")).st_mode & 0o777, 0o600)

        viewer = self.http.post("/tokens?name=ha&role=viewer", headers=bearer(token)).json()["token"]
        self.assertEqual(self.http.post("/settings?mode=3", headers=bearer(viewer)).status, 403)

        # Revoked: refused from the next request on.
        r = self.http.request("DELETE", f"/tokens/{token_id}", headers=basic("admin", ADMIN_PW))
        self.assertEqual(r.status, 200, r)
        self.assertEqual(self.http.post("/settings?mode=3", headers=bearer(token)).status, 401)
        self.assertEqual(self.http.settings()["mode"], "NORMAL")

    def test_tokens_survive_a_restart(self):
        token = self.http.post("/tokens?name=script", headers=basic("admin", ADMIN_PW)).json()["token"]
        state = self.evsed.state_dir
        self.evsed.proc.kill()
        self.evsed.proc.wait()
        with Evsed(config_text=config("writes"), state_dir=state) as again:
            again.wait_ready()
            self.assertEqual(Http(again.port).post("/settings?mode=2", headers=bearer(token)).status, 200)

    def test_failed_logins_are_throttled_per_address(self):
        statuses = []
        start = time.monotonic()
        while time.monotonic() - start < 3 and len(statuses) < 40:
            statuses.append(self.http.post("/settings?mode=0", headers=basic("admin", "guess%d" % len(statuses))).status)
        self.assertIn(429, statuses)
        allowed = statuses.index(429)
        self.assertEqual(allowed, 5, statuses)
        print(f"\nfailed logins before the first refusal: {allowed}; then refused for a doubling wait "
              f"(1, 2, 4 … 900 s): at most ~{allowed + 6} guesses in the first minute from one address")
        r = self.http.post("/settings?mode=0", headers=basic("admin", ADMIN_PW))
        self.assertEqual(r.status, 429, "even the right password waits while refused")
        self.assertTrue(int({k.lower(): v for k, v in r.headers.items()}["retry-after"]) >= 1)
        self.assertTrue(any("auth: wrong name or password for 'admin' from 127.0.0.1" in l for l in self.evsed.log))
        self.assertTrue(any(l.startswith(("warning", "<4>")) or " warn" in l.lower() for l in self.evsed.log
                            if "failures in a row" in l))
        self.assertEqual(self.http.settings()["mode"], "NORMAL")

    def test_a_cross_site_form_post_is_refused_even_with_credentials(self):
        r = self.http.post("/settings", body="mode=0", headers={**basic("admin", ADMIN_PW), "Origin": "http://evil.example",
                                                               "Content-Type": "application/x-www-form-urlencoded"})
        self.assertEqual(r.status, 403)
        self.assertEqual(self.http.settings()["mode"], "NORMAL")

    def test_secrets_never_leave(self):
        token = self.http.post("/tokens?name=sweep", headers=basic("admin", ADMIN_PW)).json()["token"]
        r = self.http.post(f"/settings?mqtt_update=1&mqtt_host=127.0.0.1&mqtt_port=1&mqtt_username=u&mqtt_password={MQTT_PW}",
                           headers=basic("admin", ADMIN_PW))
        self.assertEqual(r.status, 200, r)
        bodies = []
        for path in ("/settings", "/sessions", "/sessions.csv", "/sessions/summary", "/metrics", "/power_day", "/",
                     "/app.js", "/whoami", "/tokens", "/simulator"):
            bodies.append(self.http.get(path, headers=basic("admin", ADMIN_PW)).text)
            bodies.append(self.http.get(path, headers=bearer(token)).text)
        s = socket.create_connection(("127.0.0.1", self.evsed.port), timeout=5)
        s.sendall(f"GET /events HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {token}\r\n\r\n".encode())
        time.sleep(0.5)
        bodies.append(s.recv(1 << 20).decode(errors="replace"))
        s.close()
        self.http.post("/settings?mode=0", headers=basic("admin", "not-" + ADMIN_PW))
        time.sleep(0.3)
        everything = "\n".join(bodies + self.evsed.log)
        for secret in (ADMIN_PW, VIEWER_PW, MQTT_PW, token, token[6:]):
            self.assertNotIn(secret, everything)
        with open(os.path.join(self.evsed.state_dir, "users.json")) as f:
            users = f.read()
        self.assertNotIn(ADMIN_PW, users)
        self.assertIn("$argon2id$", users)


class LoginTest(AccessCase):
    def login(self, password=ADMIN_PW):
        return self.http.post("/login", body=f"user=admin&password={password}",
                              headers={"Content-Type": "application/x-www-form-urlencoded", "X-Requested-With": "evsed"})

    def test_a_cookie_session_with_csrf_and_logout(self):
        r = self.login("wrong-one")
        self.assertEqual(r.status, 401)
        self.assertNotIn("set-cookie", {k.lower() for k in r.headers})
        r = self.login()
        self.assertEqual(r.status, 200, r)
        cookie = {k.lower(): v for k, v in r.headers.items()}["set-cookie"]
        self.assertIn("HttpOnly", cookie)
        self.assertIn("SameSite=Strict", cookie)
        self.assertNotIn("Secure", cookie, "plain HTTP: a Secure cookie would not come back")
        session = cookie.split(";")[0]
        token = r.json()["csrf"]
        self.assertNotIn(token, cookie)
        # The cookie alone (what a cross-site form would carry) is not enough.
        self.assertEqual(self.http.post("/settings?mode=3", headers={"Cookie": session}).status, 403)
        self.assertEqual(self.http.post("/settings?mode=3", headers={"Cookie": session, "X-CSRF-Token": "x" + token}).status, 403)
        self.assertEqual(self.http.settings()["mode"], "NORMAL")
        self.assertEqual(self.http.post("/settings?mode=3", headers={"Cookie": session, "X-CSRF-Token": token}).status, 200)
        self.assertEqual(self.http.settings()["mode"], "SMART")
        me = self.http.get("/whoami", headers={"Cookie": session}).json()
        self.assertEqual((me["role"], me["csrf"]), ("admin", token))
        # From the page, a refusal does not make the browser ask for Basic credentials.
        r = self.http.post("/settings?mode=1", headers={"X-Requested-With": "evsed"})
        self.assertEqual(r.status, 401)
        self.assertNotIn("www-authenticate", {k.lower() for k in r.headers})
        self.assertEqual(self.http.post("/logout", headers={"Cookie": session}).status, 200)
        self.assertEqual(self.http.post("/settings?mode=1", headers={"Cookie": session, "X-CSRF-Token": token}).status, 401)


class OpenModeTest(AccessCase):
    mode = "open"

    def test_open_is_smartevse_behaviour(self):
        self.assertEqual(self.http.post("/settings?mode=3").status, 200)
        self.assertEqual(self.http.settings()["mode"], "SMART")
        self.assertEqual(self.http.post("/simulator?ev=B").status, 200)
        self.assertTrue(self.evsed.wait_log('auth = "open"', 2), "the risk is logged")


class AllModeTest(AccessCase):
    mode = "all"

    def test_everything_needs_a_login(self):
        self.assertEqual(self.http.get("/settings").status, 401)
        self.assertEqual(self.http.get("/").status, 200, "the page (and its login form) loads")
        self.assertEqual(self.http.get("/sessions").status, 401)
        self.assertEqual(self.http.get("/events").status, 401)
        self.assertEqual(self.http.get("/settings", headers=basic("watcher", VIEWER_PW)).status, 200)
        self.assertEqual(self.http.get("/events", headers=basic("nobody", "x" * 8)).status, 401)
        self.assertEqual(self.http.post("/settings?mode=3", headers=basic("watcher", VIEWER_PW)).status, 403)
        self.assertEqual(self.http.post("/settings?mode=3", headers=basic("admin", ADMIN_PW)).status, 200)


class TrustedNetworkTest(unittest.TestCase):
    def test_loopback_is_trusted_by_default(self):
        with Evsed() as evsed:
            evsed.wait_ready()
            http = Http(evsed.port)
            self.assertEqual(http.post("/settings?mode=3").status, 200)
            who = http.get("/whoami").json()
            self.assertEqual((who["role"], who["auth"]), ("admin", "writes"))
            self.assertIn("trusted 127.0.0.1", who["who"])

    def test_a_bad_network_is_a_configuration_error(self):
        import tempfile
        with tempfile.NamedTemporaryFile("w", suffix=".toml") as f:
            f.write('[http]\ntrusted_networks = ["10.0.0.0/33"]\n')
            f.flush()
            with tempfile.TemporaryDirectory() as d:
                r = subprocess.run([BINARY, "--check-config", "--config", f.name, "--state-dir", d],
                                   capture_output=True, text=True)
        self.assertEqual(r.returncode, 78, r.stdout + r.stderr)
        self.assertIn("http.trusted_networks", r.stdout + r.stderr)


class PasswdTest(unittest.TestCase):
    def test_passwd_refuses_short_passwords_and_keeps_the_file(self):
        import tempfile
        with tempfile.TemporaryDirectory() as d:
            r = subprocess.run([BINARY, "passwd", "admin", "--state-dir", d], input="short\n", capture_output=True, text=True)
            self.assertEqual(r.returncode, 1)
            self.assertIn("at least 8", r.stderr)
            self.assertFalse(os.path.exists(os.path.join(d, "users.json")))
            passwd(d, "admin", ADMIN_PW)
            self.assertEqual(os.stat(os.path.join(d, "users.json")).st_mode & 0o777, 0o600)
            r = subprocess.run([BINARY, "passwd", "bad name!", "--state-dir", d], input=ADMIN_PW + "\n",
                               capture_output=True, text=True)
            self.assertEqual(r.returncode, 2)


if __name__ == "__main__":
    unittest.main()
