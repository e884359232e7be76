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
NEW_USER_PW = "made-on-the-page-5"
CONFIG_MQTT_PW = "from-the-config-file-3"


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
    "/settings?mqtt_update=1&mqtt_host=evil.example&mqtt_port=1883", "/users?name=intruder&role=admin",
]
# And those that remove something.
DELETES = ["/users/admin", "/users/watcher", "/tokens/0123456789abcdef"]

FORM = {"Content-Type": "application/x-www-form-urlencoded"}


def form(**fields):
    import urllib.parse
    return urllib.parse.urlencode(fields)


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
        users_file = os.path.join(self.evsed.state_dir, "users.json")
        with open(users_file) as f:
            users_before = f.read()
        for path in DELETES:
            self.assertEqual(self.http.request("DELETE", path).status, 401, path)
            self.assertEqual(self.http.request("DELETE", path, headers=basic("watcher", VIEWER_PW)).status, 403, path)
        r = self.http.post("/users", body=form(name="intruder", role="admin", password="intruder-pw-1"), headers=FORM)
        self.assertEqual(r.status, 401)
        self.assertEqual(self.snapshot(), before, "nothing changed")
        with open(users_file) as f:
            self.assertEqual(f.read(), users_before, "no account added or removed")
        self.assertTrue(self.evsed.proc.poll() is None, "reboot/erasesettings did not run")

    def test_the_same_writes_succeed_with_each_kind_of_admin_credential(self):
        token = self.http.post("/tokens?name=all-writes", headers=basic("admin", ADMIN_PW)).json()["token"]
        login = self.http.post("/login", body=form(user="admin", password=ADMIN_PW),
                               headers={**FORM, "X-Requested-With": "evsed"})
        cookie = {"Cookie": {k.lower(): v for k, v in login.headers.items()}["set-cookie"].split(";")[0],
                  "X-CSRF-Token": login.json()["csrf"]}
        kinds = {"basic": basic("admin", ADMIN_PW), "bearer": bearer(token), "login": cookie}
        # (/users gets its password in a body, below.)
        harmless = [p for p in WRITES if p not in ("/reboot", "/erasesettings") and not p.startswith("/users")]
        for kind, headers in kinds.items():
            for path in harmless:
                r = self.http.post(path, headers=headers)
                # /sessions/1 does not exist yet: 404 is the endpoint's own answer, past the gate.
                self.assertIn(r.status, (200, 201, 404) if path.startswith("/sessions/") else (200, 201), (kind, path, r))
            r = self.http.post("/users", body=form(name=f"by-{kind}", role="viewer", password="a viewer password"),
                               headers={**FORM, **headers})
            self.assertEqual(r.status, 200, (kind, r))
            self.assertEqual(self.http.request("DELETE", f"/users/by-{kind}", headers=headers).status, 200, kind)
        self.assertEqual(self.http.settings()["settings"]["override_current"], 100, "the writes took effect")
        # The destructive two, last: /reboot ends this process (systemd would start it again).
        self.assertEqual(self.http.post("/reboot", headers=bearer(token)).status, 200)
        self.assertEqual(self.evsed.proc.wait(timeout=10), 75)

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
        r = self.http.post("/users", body=form(name="viewer2", role="viewer", password=NEW_USER_PW),
                           headers={**FORM, **basic("admin", ADMIN_PW)})
        self.assertEqual(r.status, 200, r)
        self.assertEqual(self.http.get("/whoami", headers=basic("viewer2", NEW_USER_PW)).json()["role"], "viewer")
        for path in ("/settings", "/sessions", "/sessions.csv", "/sessions/summary", "/metrics", "/power_day", "/",
                     "/app.js", "/whoami", "/tokens", "/users", "/diagnostics", "/https", "/simulator"):
            bodies.append(self.http.get(path, headers=basic("admin", ADMIN_PW)).text)
            bodies.append(self.http.get(path, headers=bearer(token)).text)
        s = socket.create_connection(("127.0.0.1", self.evsed.port), timeout=5)
        s.sendall(f"GET /events HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {token}\r\n\r\n".encode())
        time.sleep(0.5)
        bodies.append(s.recv(1 << 20).decode(errors="replace"))
        s.close()
        self.http.post("/settings?mode=0", headers=basic("admin", "not-" + ADMIN_PW))
        time.sleep(0.3)
        bodies.append(self.http.get("/diagnostics", headers=basic("admin", ADMIN_PW)).text)
        self.assertTrue(json.loads(bodies[-1])["log"], "the diagnostics download has the recent log")
        everything = "\n".join(bodies + self.evsed.log)
        for secret in (ADMIN_PW, VIEWER_PW, MQTT_PW, NEW_USER_PW, token, token[6:]):
            self.assertNotIn(secret, everything)
        with open(os.path.join(self.evsed.state_dir, "users.json")) as f:
            users = f.read()
        self.assertNotIn(ADMIN_PW, users)
        self.assertIn("$argon2id$", users)


class UsersTest(AccessCase):
    """Accounts managed over REST (what the dashboard's users card does)."""

    def add(self, auth=None, **fields):
        return self.http.post("/users", body=form(**fields), headers={**FORM, **(auth or basic("admin", ADMIN_PW))})

    def users_file(self):
        with open(os.path.join(self.evsed.state_dir, "users.json")) as f:
            return f.read()

    def test_an_admin_adds_changes_and_removes_accounts(self):
        listed = self.http.get("/users", headers=basic("admin", ADMIN_PW))
        self.assertEqual(listed.status, 200)
        self.assertEqual(listed.json()["users"], [{"name": "admin", "role": "admin"}, {"name": "watcher", "role": "viewer"}])
        self.assertNotIn("argon2", listed.text, "no hash in the list")
        self.assertEqual(self.http.get("/users", headers=basic("watcher", VIEWER_PW)).status, 403)

        r = self.add(name="carol", role="viewer", password=NEW_USER_PW)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json(), {"name": "carol", "role": "viewer"})
        self.assertEqual(self.http.get("/whoami", headers=basic("carol", NEW_USER_PW)).json()["role"], "viewer")
        self.assertEqual(self.http.post("/settings?mode=3", headers=basic("carol", NEW_USER_PW)).status, 403)
        self.assertNotIn(NEW_USER_PW, self.users_file())
        self.assertEqual(os.stat(os.path.join(self.evsed.state_dir, "users.json")).st_mode & 0o777, 0o600)

        # The role alone; then a new password, which ends the old one at once.
        self.assertEqual(self.add(name="carol", role="admin").status, 200)
        self.assertEqual(self.http.post("/settings?mode=3", headers=basic("carol", NEW_USER_PW)).status, 200)
        self.assertEqual(self.add(name="carol", role="admin", password="another-pw-99").status, 200)
        self.assertEqual(self.http.get("/whoami", headers=basic("carol", NEW_USER_PW)).status, 401)
        self.assertEqual(self.http.get("/whoami", headers=basic("carol", "another-pw-99")).json()["role"], "admin")

        r = self.http.request("DELETE", "/users/carol", headers=basic("admin", ADMIN_PW))
        self.assertEqual(r.status, 200, r)
        self.assertEqual(self.http.get("/whoami", headers=basic("carol", "another-pw-99")).status, 401)
        self.assertEqual(self.http.request("DELETE", "/users/carol", headers=basic("admin", ADMIN_PW)).status, 404)

        # Kept across a restart (it was on disk before the answer).
        state = self.evsed.state_dir
        self.assertEqual(self.add(name="dave", role="viewer", password="dave-password").status, 200)
        self.evsed.proc.kill()
        self.evsed.proc.wait()
        with Evsed(config_text=config("writes"), state_dir=state) as again:
            again.wait_ready()
            self.assertEqual(Http(again.port).get("/whoami", headers=basic("dave", "dave-password")).json()["role"], "viewer")

    def test_an_account_changes_its_own_password(self):
        def change(auth, **fields):
            return self.http.post("/password", body=form(**fields), headers={**FORM, **auth})

        me = basic("watcher", VIEWER_PW)
        self.assertEqual(change({}, current=VIEWER_PW, password="x" * 10).status, 401)
        r = change(me, current="not the password", password="a new viewer pw")
        self.assertEqual(r.status, 403, r)
        r = change(me, current=VIEWER_PW, password="short")
        self.assertEqual((r.status, r.json()["parameter"]), (400, "password"))
        token = self.http.post("/tokens?name=t&role=viewer", headers=basic("admin", ADMIN_PW)).json()["token"]
        self.assertEqual(change(bearer(token), current="x" * 10, password="y" * 10).status, 400, "a token has no password")
        self.assertEqual(self.http.get("/whoami", headers=me).json()["role"], "viewer", "nothing changed")
        r = change(me, current=VIEWER_PW, password="a new viewer pw")
        self.assertEqual(r.status, 200, r)
        self.assertEqual(self.http.get("/whoami", headers=me).status, 401)
        self.assertEqual(self.http.get("/whoami", headers=basic("watcher", "a new viewer pw")).json()["role"], "viewer")
        self.assertEqual(self.http.post("/settings?mode=3", headers=basic("watcher", "a new viewer pw")).status, 403,
                         "a viewer still")

    def test_an_edit_by_evsed_passwd_is_not_written_over(self):
        import signal
        passwd(self.evsed.state_dir, "shell-made", "made in the shell", role="viewer")
        r = self.add(name="page-made", role="viewer", password=NEW_USER_PW)
        self.assertEqual(r.status, 409, r)
        self.assertIn("systemctl reload evsed", r.json()["error"])
        self.assertIn("shell-made", self.users_file(), "the shell's account is kept")
        self.assertNotIn("page-made", self.users_file())
        self.evsed.proc.send_signal(signal.SIGHUP)
        self.assertTrue(self.evsed.wait_log("configuration reloaded", 5))
        self.assertEqual(self.add(name="page-made", role="viewer", password=NEW_USER_PW).status, 200)
        self.assertEqual({u["name"] for u in self.http.get("/users", headers=basic("admin", ADMIN_PW)).json()["users"]},
                         {"admin", "watcher", "shell-made", "page-made"})

    def test_bad_requests_change_nothing(self):
        before = self.users_file()
        cases = [
            (dict(name="bad name", role="viewer", password=NEW_USER_PW), "name"),
            (dict(name="erin", role="root", password=NEW_USER_PW), "role"),
            (dict(name="erin", role="viewer", password="short"), "password"),
            (dict(name="erin", role="viewer"), "password"),
            (dict(name="erin", role="viewer", password=NEW_USER_PW, colour="red"), "colour"),
            (dict(name="admin", role="viewer"), "role"),  # the last admin
        ]
        for fields, param in cases:
            r = self.add(**fields)
            self.assertEqual(r.status, 400, (fields, r))
            self.assertEqual(r.json()["parameter"], param, (fields, r.json()))
        r = self.http.post(f"/users?name=erin&role=viewer&password={NEW_USER_PW}", headers=basic("admin", ADMIN_PW))
        self.assertEqual(r.status, 400)
        self.assertIn("body", r.json()["error"], "a password in the URL is refused")
        r = self.http.request("DELETE", "/users/admin", headers=basic("admin", ADMIN_PW))
        self.assertEqual(r.status, 409, r)
        self.assertIn("last admin", r.json()["error"])
        self.assertEqual(self.users_file(), before)
        self.assertEqual(self.http.get("/whoami", headers=basic("admin", ADMIN_PW)).json()["role"], "admin")


class FirstAdminTest(unittest.TestCase):
    """No account at install: the log names a one-time code, the first visitor makes the admin with it."""

    def test_the_first_admin_with_the_logged_code(self):
        import re
        import tempfile
        state = tempfile.TemporaryDirectory(prefix="evsed-first-")
        self.addCleanup(state.cleanup)
        text = config("writes")
        with Evsed(config_text=text, state_dir=state.name) as evsed:
            evsed.wait_ready()
            http = Http(evsed.port)
            self.assertTrue(evsed.wait_log("setup code ", 5))
            code = re.search(r"setup code ([2-9A-Z]{4}-[2-9A-Z]{4}-[2-9A-Z]{4})", "\n".join(evsed.log)).group(1)
            self.assertEqual(http.get("/setup").json(), {"pending": True})
            self.assertEqual(http.post("/settings?mode=3").status, 401, "no admin yet: still no changes from strangers")

            def setup(**fields):
                return http.post("/setup", body=form(**fields), headers=FORM)

            r = http.post(f"/setup?code={code}&user=admin&password=in-the-url-1")
            self.assertEqual(r.status, 400, "not in the URL")
            self.assertEqual(setup(code="ABCD-EFGH-JKMN", user="admin", password=ADMIN_PW).status, 403)
            r = setup(code=code, user="admin", password="short")
            self.assertEqual((r.status, r.json()["parameter"]), (400, "password"))
            self.assertEqual(http.get("/setup").json(), {"pending": True}, "a refused try does not use the code up")
            self.assertFalse(os.path.exists(os.path.join(state.name, "users.json")))

            r = setup(code=code.lower(), user="admin", password=ADMIN_PW)
            self.assertEqual(r.status, 200, r)
            self.assertEqual(r.json(), {"name": "admin", "role": "admin"})
            self.assertEqual(http.get("/setup").json(), {"pending": False})
            self.assertEqual(setup(code=code, user="mallory", password="another password").status, 409, "once only")
            self.assertEqual(http.post("/settings?mode=3", headers=basic("admin", ADMIN_PW)).status, 200)
            bundle = http.get("/diagnostics", headers=basic("admin", ADMIN_PW)).text
            self.assertNotIn(code, bundle, "the diagnostics download hides the code")
            self.assertIn("setup code (hidden)", bundle)
            self.assertNotIn(ADMIN_PW, "\n".join(evsed.log))
            self.assertEqual(os.stat(os.path.join(state.name, "users.json")).st_mode & 0o777, 0o600)
        with Evsed(config_text=text, state_dir=state.name) as again:
            again.wait_ready()
            self.assertEqual(Http(again.port).get("/setup").json(), {"pending": False})
            self.assertFalse(any("setup code" in line for line in again.log), "with an admin no code is offered")


class WriteLimitTest(unittest.TestCase):
    """[http] write_limit: changes per address per minute; reading goes on; trusted sources are not counted."""

    def test_changes_per_minute_from_one_address(self):
        import http.client
        with Evsed(config_text='[http]\ntrusted_networks = ["127.0.0.3"]\nwrite_limit = 12\n') as evsed:
            evsed.wait_ready()

            def post(source, path="/settings?override_current=0"):
                c = http.client.HTTPConnection("127.0.0.1", evsed.port, timeout=5, source_address=(source, 0))
                c.request("POST", path)
                r = c.getresponse()
                r.read()
                c.close()
                return r.status, r.getheader("Retry-After")

            statuses = [post("127.0.0.1")[0] for _ in range(20)]
            self.assertEqual(statuses[:12], [401] * 12, "127.0.0.1 is no admin here; counted even when refused")
            self.assertIn(429, statuses)
            allowed = statuses.index(429)
            self.assertEqual(allowed, 12)
            status, retry = post("127.0.0.1")
            self.assertEqual(status, 429)
            self.assertGreaterEqual(int(retry), 1)
            print(f"\nwrite_limit = 12: {allowed} changes at once from one address, then one every {60 // 12} s "
                  f"(Retry-After {retry})")
            self.assertEqual(Http(evsed.port).get("/settings").status, 200, "reading is not limited")
            self.assertEqual([post("127.0.0.3")[0] for _ in range(30)], [200] * 30, "a trusted source is not counted")
            self.assertTrue(evsed.wait_log("changes in a minute", 2))


class DiagnosticsTest(AccessCase):
    """The diagnostics download: for admins, with the log and the configuration, and no secret."""

    def setUp(self):
        self.tmp_state = None
        text = config(self.mode) + f'[mqtt]\nhost = "127.0.0.1"\nport = 1\nusername = "u"\npassword = "{CONFIG_MQTT_PW}"\n'
        self.evsed = Evsed(config_text=text, state_dir=self.state())
        self.evsed.wait_ready()
        self.http = Http(self.evsed.port)

    def test_the_bundle(self):
        self.assertEqual(self.http.get("/diagnostics").status, 401)
        self.assertEqual(self.http.get("/diagnostics", headers=basic("watcher", VIEWER_PW)).status, 403)
        self.http.get("/whoami", headers=basic("admin", "a wrong password"))  # a line in the log
        r = self.http.get("/diagnostics", headers=basic("admin", ADMIN_PW))
        self.assertEqual(r.status, 200, r)
        headers = {k.lower(): v for k, v in r.headers.items()}
        self.assertRegex(headers["content-disposition"], r'attachment; filename="evsed-diagnostics-\d+-\d+\.json"')
        b = r.json()
        self.assertEqual(b["settings"]["mode"], "NORMAL")
        self.assertEqual(b["access"]["auth"], "writes")
        self.assertEqual(b["access"]["accounts"], 2)
        self.assertTrue(any("wrong name or password" in line for line in b["log"]), b["log"][-5:])
        self.assertTrue(b["log"][0][:4].isdigit(), "lines carry their time")
        [(path, cfg)] = b["config"].items()
        self.assertEqual(cfg["mqtt"]["password"], "(set)")
        self.assertEqual(cfg["mqtt"]["host"], "127.0.0.1")
        self.assertIn("kernel", b["system"])
        for secret in (CONFIG_MQTT_PW, ADMIN_PW, VIEWER_PW):
            self.assertNotIn(secret, r.text)
        self.assertNotIn(CONFIG_MQTT_PW, "\n".join(self.evsed.log))


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
