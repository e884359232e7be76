"""Regression tests for the defects found by probing the daemon (issue 11), against the real binary.

Each class reproduces one defect the way it was found: over real HTTP, a real MQTT broker, real
signals, SIGKILL and hostile files. Every assertion here failed on the binary before the fix."""

import os
import shutil
import signal
import socket
import stat
import struct
import subprocess
import sys
import tempfile
import threading
import time
import unittest
from urllib.parse import quote

sys.path.insert(0, os.path.dirname(__file__))
from evsed_harness import BINARY, Evsed, Http, MeterSim, PtyBus, read_json, wait_until  # noqa: E402

API_CONFIG = """
serial = 12345
[mains_meter]
type = "API"
"""

EX_CONFIG = 78


def current_for_duty(duty):
    """What a car reads from a duty in 1/1024 (IEC 61851-1 Table A.8, as the firmware maps it), in dA."""
    per_mille = duty * 1000 // 1024
    if duty < 102:
        return 0
    if duty < 870:
        return per_mille * 6 // 10 + 1
    if duty <= 983:
        return (per_mille - 640) * 25 // 10 + 3
    return 0


def raw_http(port, data, timeout=5.0, host="127.0.0.1"):
    with socket.create_connection((host, port), timeout=timeout) as s:
        s.sendall(data)
        chunks = []
        try:
            while True:
                c = s.recv(65536)
                if not c:
                    break
                chunks.append(c)
        except socket.timeout:
            pass
        return b"".join(chunks).decode(errors="replace")


def proc_status(pid, key):
    """A number from /proc/PID/status: "Threads", or "VmSize" in kB (an unjoined thread keeps its stack mapped)."""
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    raise AssertionError(f"no {key} line")


class PilotOverrideTest(unittest.TestCase):
    """Item 1: the expert duty override may lower the offer, never raise it."""

    def setUp(self):
        self.evsed = Evsed(config_text='[evse]\nconfig = "Socket"\ncurrent_max = 16\n')
        self.evsed.wait_ready()
        self.http = Http(self.evsed.port)

    def tearDown(self):
        self.evsed.close()

    def sim(self):
        return self.http.get("/simulator").json()

    def test_no_override_value_lets_the_car_draw_more_than_the_cable(self):
        http = self.http
        http.post("/simulator?cable=13&ev_max=63&ev=C")
        self.assertTrue(wait_until(lambda: self.sim()["ev_draw"]["L1"] == 130, 15), self.sim())
        worst_signal = worst_draw = 0
        for value in range(-1, 1025):
            r = http.post(f"/settings?override_pwm={value}")
            self.assertEqual(r.status, 200, r)
            sim = self.sim()
            worst_signal = max(worst_signal, current_for_duty(sim["pwm"]))
            worst_draw = max(worst_draw, *sim["ev_draw"].values())
        self.assertLessEqual(worst_signal, 130, "a duty offering more than the 13 A cable was signalled")
        self.assertLessEqual(worst_draw, 130)
        for path in ("/settings?override_pwm=922", "/modem?pwm=900", "/settings?override_pwm=700"):
            http.post(path)
            deadline = time.monotonic() + 3
            while time.monotonic() < deadline:
                sim = self.sim()
                self.assertLessEqual(max(sim["ev_draw"].values()), 130, path)
                self.assertLessEqual(current_for_duty(sim["pwm"]), 130, path)
                time.sleep(0.1)
            s = http.settings()
            self.assertEqual(s["evse"]["pwm"], self.sim()["pwm"], "status reports the duty on the wire")
            self.assertEqual(s["evsed"]["offered_current"], current_for_duty(s["evse"]["pwm"]),
                             "status reports the current the duty signals")
        # A lower override is obeyed, and said to be the limit.
        http.post("/settings?override_pwm=200")  # 19.5 % = 11.7 A
        self.assertTrue(wait_until(lambda: self.sim()["ev_draw"]["L1"] == current_for_duty(200), 5), self.sim())
        s = http.settings()
        self.assertEqual(s["evse"]["pwm"], 200)
        self.assertEqual(s["evsed"]["offered_current"], current_for_duty(200))
        self.assertEqual(s["evsed"]["limited_by"], "pwm_override")


class PilotOverrideMqttTest(unittest.TestCase):
    def test_cppwmoverride_cannot_raise_the_offer(self):
        from test_mqtt import Client, Mosquitto  # noqa: E402
        broker = Mosquitto()
        evsed = Evsed(config_text=f'[evse]\nconfig = "Socket"\ncurrent_max = 16\n[mqtt]\nhost = "127.0.0.1"\n'
                                  f'port = {broker.port}\ntopic_prefix = "evse-test"\n')
        client = Client(broker.port)
        try:
            evsed.wait_ready()
            http = Http(evsed.port)
            self.assertTrue(client.wait_for("evse-test/connected", "online", 10))
            http.post("/simulator?cable=13&ev_max=63&ev=C")
            self.assertTrue(wait_until(lambda: http.get("/simulator").json()["ev_draw"]["L1"] == 130, 15))
            client.client.publish("evse-test/Set/CPPWMOverride", "922").wait_for_publish()
            self.assertTrue(wait_until(lambda: http.settings()["evsed"]["pwm_override"] == 922, 5))
            deadline = time.monotonic() + 3
            while time.monotonic() < deadline:
                sim = http.get("/simulator").json()
                self.assertLessEqual(max(sim["ev_draw"].values()), 130)
                self.assertLessEqual(current_for_duty(sim["pwm"]), 130)
                time.sleep(0.1)
        finally:
            client.close()
            evsed.close()
            broker.close()


class PilotOverrideSmartTest(unittest.TestCase):
    def test_smart_mode_keeps_the_grid_below_max_mains_under_an_override(self):
        evsed = Evsed(config_text="[evse]\ncurrent_max = 32\ncurrent_main = 25\n")
        try:
            evsed.wait_ready()
            http = Http(evsed.port)
            http.post("/simulator?house_L1=150&house_L2=150&house_L3=150&ev_max=63")
            http.post("/settings?mode=3")
            time.sleep(2.5)  # a first mains reading before the car asks
            http.post("/simulator?ev=C")
            self.assertTrue(wait_until(lambda: http.get("/simulator").json()["ev_draw"]["L1"] > 0, 20))
            time.sleep(6)  # regulated down to the headroom
            http.post("/settings?override_pwm=922")
            worst = 0
            deadline = time.monotonic() + 7
            while time.monotonic() < deadline:
                worst = max(worst, *http.get("/simulator").json()["grid"].values())
                time.sleep(0.1)
            self.assertLessEqual(worst, 250, "the grid exceeded MaxMains under an override")
        finally:
            evsed.close()


class FakeBroker:
    """Accepts MQTT connections and records what each CONNECT carried (a peer we control, to see credentials)."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.connects = []
        self.conns = []
        self.stopped = False
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        self.sock.settimeout(0.2)
        while not self.stopped:
            try:
                c, _ = self.sock.accept()
            except (socket.timeout, OSError):
                continue
            self.conns.append(c)
            threading.Thread(target=self._client, args=(c,), daemon=True).start()

    @staticmethod
    def _read(c, n):
        data = b""
        while len(data) < n:
            chunk = c.recv(n - len(data))
            if not chunk:
                raise ConnectionError
            data += chunk
        return data

    def _client(self, c):
        try:
            c.settimeout(10)
            first = self._read(c, 1)[0]
            length, shift = 0, 0
            while True:
                b = self._read(c, 1)[0]
                length |= (b & 0x7F) << shift
                shift += 7
                if not b & 0x80:
                    break
            body = self._read(c, length)
            if first >> 4 != 1:
                return
            pos = 2 + struct.unpack(">H", body[:2])[0]
            flags = body[pos + 1]
            pos += 4

            def string():
                nonlocal pos
                n = struct.unpack(">H", body[pos:pos + 2])[0]
                s = body[pos + 2:pos + 2 + n]
                pos += 2 + n
                return s

            client_id = string()
            if flags & 0x04:
                string()
                string()
            user = string().decode() if flags & 0x80 else None
            password = string().decode() if flags & 0x40 else None
            self.connects.append({"client": client_id.decode(), "user": user, "password": password})
            c.sendall(b"\x20\x02\x00\x00")
            while not self.stopped:
                try:
                    head = c.recv(2)
                except socket.timeout:
                    continue
                if not head:
                    break
                if head[0] >> 4 == 12:  # PINGREQ
                    c.sendall(b"\xd0\x00")
        except (ConnectionError, OSError, IndexError, struct.error):
            pass

    def close(self):
        self.stopped = True
        self.sock.close()
        for c in self.conns:
            c.close()


class MqttCredentialsTest(unittest.TestCase):
    """Item 2: credentials belong to a broker."""

    def test_moving_to_another_broker_does_not_send_the_stored_password(self):
        first, other = FakeBroker(), FakeBroker()
        evsed = Evsed(config_text=API_CONFIG)
        try:
            evsed.wait_ready()
            http = Http(evsed.port)
            r = http.post(f"/settings?mqtt_update=1&mqtt_host=127.0.0.1&mqtt_port={first.port}"
                          "&mqtt_username=owner&mqtt_password=s3cret-pass").json()
            self.assertTrue(r["mqtt_password_set"])
            self.assertTrue(wait_until(lambda: first.connects, 10))
            self.assertEqual((first.connects[0]["user"], first.connects[0]["password"]), ("owner", "s3cret-pass"))
            r = http.post(f"/settings?mqtt_update=1&mqtt_host=127.0.0.1&mqtt_port={other.port}").json()
            self.assertIn("mqtt_credentials", r, r)
            self.assertIn("cleared", r["mqtt_credentials"])
            self.assertTrue(wait_until(lambda: other.connects, 10))
            self.assertEqual((other.connects[0]["user"], other.connects[0]["password"]), (None, None))
            m = http.settings()["mqtt"]
            self.assertEqual((m["username"], m["password_set"]), ("", False))
            self.assertNotIn("s3cret-pass", open(os.path.join(evsed.state_dir, "mqtt.json")).read())
            # New credentials in the same request go with the new broker.
            r = http.post(f"/settings?mqtt_update=1&mqtt_host=127.0.0.1&mqtt_port={first.port}"
                          "&mqtt_username=u2&mqtt_password=p2").json()
            self.assertNotIn("mqtt_credentials", r)
            self.assertTrue(wait_until(lambda: len(first.connects) >= 2, 10))
            self.assertEqual((first.connects[-1]["user"], first.connects[-1]["password"]), ("u2", "p2"))
        finally:
            evsed.close()
            first.close()
            other.close()

    def test_the_password_can_come_from_a_file_of_its_own(self):
        broker = FakeBroker()
        with tempfile.TemporaryDirectory(prefix="evsed-pwfile-") as tmp:
            secret = os.path.join(tmp, "mqtt-password")
            with open(secret, "w") as f:
                f.write("from-the-file\n")
            os.chmod(secret, 0o600)
            evsed = Evsed(config_text=API_CONFIG + f'[mqtt]\nhost = "127.0.0.1"\nport = {broker.port}\n'
                                                   f'username = "u"\npassword_file = "{secret}"\n')
            try:
                evsed.wait_ready()
                self.assertTrue(wait_until(lambda: broker.connects, 10))
                self.assertEqual(broker.connects[0]["password"], "from-the-file")
                self.assertFalse(any("from-the-file" in line for line in evsed.log))
            finally:
                evsed.close()
                broker.close()
            # Both at once is refused; so is a file that is not there, or one every user may read.
            cfg = os.path.join(tmp, "evsed.toml")
            loose = os.path.join(tmp, "loose-password")
            with open(loose, "w") as f:
                f.write("everyone-reads-this\n")
            os.chmod(loose, 0o644)
            for extra in (f'password = "x"\npassword_file = "{secret}"\n', 'password_file = "/nonexistent"\n',
                          f'password_file = "{loose}"\n'):
                with open(cfg, "w") as f:
                    f.write("[mqtt]\n" + extra)
                r = subprocess.run([BINARY, "--check-config", "--config", cfg, "--state-dir", tmp],
                                   capture_output=True, text=True, timeout=10)
                self.assertEqual(r.returncode, EX_CONFIG, r.stdout)
                self.assertIn("password_file", r.stdout)
                if loose in extra:
                    self.assertIn("every user may read it", r.stdout)

    def test_tls_is_not_turned_off_by_omission(self):
        evsed = Evsed(config_text=API_CONFIG)
        try:
            evsed.wait_ready()
            http = Http(evsed.port)
            http.post("/settings?mqtt_update=1&mqtt_host=broker.invalid&mqtt_port=8883&mqtt_tls=1")
            http.post("/settings?mqtt_update=1&mqtt_host=other.invalid&mqtt_port=8883")
            self.assertTrue(http.settings()["mqtt"]["tls"], "a host change kept TLS")
            r = http.post("/settings?mqtt_update=1&mqtt_tls=0").json()
            self.assertIs(r["mqtt_tls"], False)
            self.assertFalse(http.settings()["mqtt"]["tls"])
            self.assertTrue(evsed.wait_log("TLS turned off"), evsed.log)
        finally:
            evsed.close()


class CrossSiteTest(unittest.TestCase):
    """Item 3: Origin, Referer and Host checks; destructive endpoints POST only."""

    @classmethod
    def setUpClass(cls):
        cls.evsed = Evsed(config_text=API_CONFIG + '[http]\nallowed_hosts = ["charger.example.org"]\n')
        cls.evsed.wait_ready()
        cls.http = Http(cls.evsed.port)

    @classmethod
    def tearDownClass(cls):
        cls.evsed.close()

    def test_a_cross_site_post_is_refused_and_changes_nothing(self):
        before = self.http.settings()["mode"]
        for headers in ({"Origin": "http://evil.example"}, {"Referer": "http://evil.example/page.html"},
                        {"Origin": "null"}, {"Origin": f"http://127.0.0.1:{self.evsed.port + 1}"}):
            r = self.http.post("/settings?mode=0", headers=dict(headers, **{"Content-Type": "text/plain"}))
            self.assertEqual(r.status, 403, (headers, r))
            self.assertEqual(self.http.settings()["mode"], before, headers)
        for path in ("/currents?L1=1&L2=1&L3=1", "/color_off?R=1&G=2&B=3", "/cablelock?1", "/reboot",
                     "/erasesettings", "/simulator?ev=C"):
            self.assertEqual(self.http.post(path, headers={"Origin": "http://evil.example"}).status, 403, path)
        # The charger's own page (same origin) may post.
        same = f"http://127.0.0.1:{self.evsed.port}"
        r = self.http.post("/settings?stop_timer=5", headers={"Origin": same, "Referer": same + "/"})
        self.assertEqual(r.status, 200, r)
        # Reading with a foreign Origin is harmless (the browser keeps the answer from the page).
        self.assertEqual(self.http.get("/settings", headers={"Origin": "http://evil.example"}).status, 200)

    def test_dns_rebinding_host_names_are_refused(self):
        port = self.evsed.port
        for host in ("evil.example", f"evil.example:{port}", "charger.example.org.evil.example"):
            r = self.http.get("/settings", headers={"Host": host})
            self.assertEqual(r.status, 403, host)
            self.assertIn("allowed_hosts", r.text)
        for host in (f"127.0.0.1:{port}", "127.0.0.1", f"localhost:{port}", "[::1]", f"[::1]:{port}", "10.1.2.3",
                     socket.gethostname(), socket.gethostname() + ".local", f"{socket.gethostname()}.local:{port}",
                     "charger.example.org", f"CHARGER.example.org:{port}"):
            self.assertEqual(self.http.get("/settings", headers={"Host": host}).status, 200, host)

    def test_reboot_and_erase_are_post_only(self):
        for method in ("GET", "OPTIONS", "PUT", "DELETE", "HEAD"):
            for path in ("/erasesettings", "/reboot"):
                r = self.http.request(method, path)
                self.assertEqual(r.status, 405, (method, path))
                self.assertIn("POST", r.headers.get("Allow", ""))
        self.assertIsNone(self.evsed.proc.poll(), "nothing restarted")
        self.assertTrue(os.path.exists(self.evsed.settings_path), "settings not erased")


class AcknowledgedSettingTest(unittest.TestCase):
    """Item 4: a 200 reply means the change is on disk."""

    def test_sigkill_right_after_the_reply_loses_nothing(self):
        with tempfile.TemporaryDirectory(prefix="evsed-kill-") as tmp:
            state = os.path.join(tmp, "state")
            lost = []
            for i in range(20):
                evsed = Evsed(config_text=API_CONFIG, state_dir=state)
                try:
                    evsed.wait_ready()
                    mode = (0, 1, 3)[i % 3]
                    stop_timer = 1 + i
                    r = Http(evsed.port).post(f"/settings?mode={mode}&stop_timer={stop_timer}")
                    evsed.proc.kill()
                    evsed.proc.wait()
                    self.assertEqual(r.status, 200, r)
                finally:
                    evsed.close()
                again = Evsed(config_text=API_CONFIG, state_dir=state)
                try:
                    again.wait_ready()
                    s = Http(again.port).settings()
                    if (s["mode_id"], s["settings"]["solar_stop_time"]) != (mode, stop_timer):
                        lost.append((i, mode, stop_timer, s["mode_id"], s["settings"]["solar_stop_time"]))
                finally:
                    again.close()
            self.assertEqual(lost, [], "acknowledged settings lost after SIGKILL")

    def test_a_setting_that_cannot_be_saved_is_refused_and_not_applied(self):
        with tempfile.TemporaryDirectory(prefix="evsed-nosave-") as tmp:
            state = os.path.join(tmp, "state")
            evsed = Evsed(config_text=API_CONFIG, state_dir=state)
            try:
                evsed.wait_ready()
                http = Http(evsed.port)
                self.assertEqual(http.post("/settings?stop_timer=7").status, 200)
                os.rename(state, state + ".away")  # the state dir disappears
                r = http.post("/settings?stop_timer=9&mode=0")
                self.assertEqual(r.status, 500, r)
                self.assertIn("settings.json", r.text)
                s = http.settings()
                self.assertEqual(s["settings"]["solar_stop_time"], 7, "the running value is left unchanged")
                self.assertNotEqual(s["mode"], "OFF")
                # MQTT settings follow the same rule.
                r = http.post("/settings?mqtt_update=1&mqtt_host=broker.invalid")
                self.assertEqual(r.status, 500, r)
                self.assertEqual(http.settings()["mqtt"]["host"], "")
                os.rename(state + ".away", state)
                self.assertEqual(http.post("/settings?stop_timer=9").status, 200)
                self.assertEqual(read_json(os.path.join(state, "settings.json"))["solar_stop_time"], 9)
            finally:
                evsed.close()


class ThreadLeakTest(unittest.TestCase):
    """Item 5: no request leaves a thread or descriptor behind."""

    def test_mqtt_updates_leave_no_threads(self):
        evsed = Evsed(config_text=API_CONFIG)
        try:
            evsed.wait_ready()
            http = Http(evsed.port)
            # A first few: the worker thread and its malloc arena exist from then on.
            for i in range(20):
                http.post(f"/settings?mqtt_update=1&mqtt_host=127.0.0.1&mqtt_port={2 + i % 2}")
            time.sleep(1)
            pid = evsed.proc.pid
            threads, vm_kb = proc_status(pid, "Threads"), proc_status(pid, "VmSize")
            fds = len(os.listdir(f"/proc/{pid}/fd"))
            for i in range(150):
                r = http.post(f"/settings?mqtt_update=1&mqtt_host=127.0.0.1&mqtt_port={2 + i % 2}")
                self.assertEqual(r.status, 200, (i, r))
            time.sleep(2)
            self.assertLessEqual(proc_status(pid, "Threads"), threads + 2)
            # A leaked thread keeps its 8 MB stack mapped: 150 of them would be 1.2 GB.
            self.assertLess(proc_status(pid, "VmSize") - vm_kb, 32 * 1024, "address space grew by more than 32 MB")
            self.assertLessEqual(len(os.listdir(f"/proc/{evsed.proc.pid}/fd")), fds + 4)
        finally:
            evsed.close()


class SignalTest(unittest.TestCase):
    """Item 6: no signal ends evsed without its stop path."""

    def test_signals_are_handled(self):
        evsed = Evsed(config_text=API_CONFIG)
        try:
            evsed.wait_ready()
            http = Http(evsed.port)
            for sig in (signal.SIGHUP, signal.SIGUSR1, signal.SIGUSR2, signal.SIGALRM, signal.SIGPIPE):
                evsed.proc.send_signal(sig)
                time.sleep(0.3)
                self.assertIsNone(evsed.proc.poll(), f"{sig.name} ended evsed")
                self.assertEqual(http.get("/settings").status, 200, sig.name)
            for name in ("SIGHUP", "SIGUSR1", "SIGUSR2", "SIGALRM"):
                self.assertTrue(evsed.wait_log(name, 2), (name, evsed.log))
            http.post("/settings?stop_timer=3")
            rc, _ = evsed.stop(signal.SIGQUIT)
            self.assertEqual(rc, 0, evsed.log)
            self.assertTrue(any("SIGQUIT" in line and "stopping" in line for line in evsed.log), evsed.log)
            self.assertTrue(any("safe state" in line for line in evsed.log))
            self.assertEqual(read_json(evsed.settings_path)["solar_stop_time"], 3)
        finally:
            evsed.close()


class InvalidRunTimeValueTest(unittest.TestCase):
    """Item 7: one invalid saved value does not discard the others."""

    def test_only_the_invalid_value_is_dropped(self):
        with tempfile.TemporaryDirectory(prefix="evsed-drop-") as tmp:
            state = os.path.join(tmp, "state")
            os.makedirs(state)
            with open(os.path.join(state, "settings.json"), "w") as f:
                f.write('{"format": 1, "access": 1, "mode": 1, "current_min": 10, "capacity_mode": 1,'
                        ' "current_max_sum_mains": 100, "solar_stop_time": 7, "enable_C2": 1}\n')
            evsed = Evsed(config_text=API_CONFIG + "[evse]\ncurrent_max = 8\n", state_dir=state)
            try:
                evsed.wait_ready()
                s = Http(evsed.port).settings()["settings"]
                self.assertEqual(s["current_min"], 6, "the invalid value falls back to the configuration")
                self.assertEqual(s["current_max_sum_mains"], 100, "the capacity limit is kept")
                self.assertEqual(s["solar_stop_time"], 7)
                self.assertEqual(s["enable_C2"], "Always Off")
                dropped = [line for line in evsed.log if "current_min" in line and "dropped" in line]
                self.assertEqual(len(dropped), 1, evsed.log)
                self.assertIn("current_max", dropped[0], "the reason names the relation")
            finally:
                evsed.close()


class LogInjectionTest(unittest.TestCase):
    """Item 8: outside values reach the log escaped and capped."""

    def test_mqtt_payloads_cannot_forge_log_lines(self):
        from test_mqtt import Client, Mosquitto  # noqa: E402
        broker = Mosquitto()
        evsed = Evsed(config_text=API_CONFIG + f'[mqtt]\nhost = "127.0.0.1"\nport = {broker.port}\ntopic_prefix = "SmartEVSE-12345"\n')
        client = Client(broker.port)
        try:
            evsed.wait_ready()
            self.assertTrue(client.wait_for("SmartEVSE-12345/connected", "online", 10))
            client.client.publish("SmartEVSE-12345/Set/Mode", "Bogus\nerror: FORGED by the payload").wait_for_publish()
            self.assertTrue(client.wait_for("SmartEVSE-12345/CommandError", timeout=5))
            time.sleep(11)  # command errors are logged at most every 10 s
            client.client.publish("SmartEVSE-12345/Set/Mode", "A" * 256 * 1024).wait_for_publish()
            errors = wait_until(lambda: [p for t, p, _ in client.seen() if t == "SmartEVSE-12345/CommandError"]
                                if len([1 for t, _, _ in client.seen() if t.endswith("/CommandError")]) >= 2 else None,
                                10)
            self.assertTrue(errors, client.seen()[-5:])
            self.assertTrue(evsed.wait_log("AAAA", 5), evsed.log[-5:])
            for payload in errors:
                self.assertNotIn("\n", payload)
                self.assertLess(len(payload), 512)
            self.assertFalse(any(line.startswith("error: FORGED") for line in evsed.log), evsed.log)
            self.assertTrue(any("\\n" in line and "FORGED" in line for line in evsed.log), evsed.log)
            self.assertLess(max(len(line) for line in evsed.log), 1024)
        finally:
            client.close()
            evsed.close()
            broker.close()


class StateFileLinkTest(unittest.TestCase):
    """Item 9: temporary files are created exclusively and never follow links."""

    def test_links_in_the_state_dir_are_not_followed(self):
        with tempfile.TemporaryDirectory(prefix="evsed-link-") as tmp:
            state = os.path.join(tmp, "state")
            os.makedirs(state)
            victim = os.path.join(tmp, "victim")
            with open(victim, "w") as f:
                f.write("precious\n")
            for name in ("settings.json.tmp", "mqtt.json.tmp", "mqtt_ca.pem.tmp"):
                os.symlink(victim, os.path.join(state, name))
            evsed = Evsed(config_text=API_CONFIG, state_dir=state)
            try:
                evsed.wait_ready()
                http = Http(evsed.port)
                self.assertEqual(http.post("/settings?stop_timer=4").status, 200)
                pem = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"
                r = http.post("/settings?mqtt_update=1&mqtt_host=broker.invalid&mqtt_password=pw&mqtt_tls=1"
                              "&mqtt_ca_cert=" + quote(pem))
                self.assertEqual(r.status, 200, r)
                time.sleep(1.5)
                with open(victim) as f:
                    self.assertEqual(f.read(), "precious\n")
                self.assertEqual(read_json(os.path.join(state, "settings.json"))["solar_stop_time"], 4)
                for name in ("mqtt.json", "mqtt_ca.pem"):
                    mode = stat.S_IMODE(os.stat(os.path.join(state, name)).st_mode)
                    self.assertEqual(mode, 0o600, name)
            finally:
                evsed.close()


class ConfigFileKindTest(unittest.TestCase):
    """Item 10: --config must name a regular file of sane size."""

    def run_with(self, path):
        with tempfile.TemporaryDirectory(prefix="evsed-cfgkind-") as tmp:
            return subprocess.run([BINARY, "--simulate", "--config", path, "--state-dir", tmp, "--listen",
                                   "127.0.0.1:0"], capture_output=True, text=True, timeout=10)

    def test_anything_but_a_regular_file_is_refused(self):
        with tempfile.TemporaryDirectory(prefix="evsed-cfg-") as tmp:
            fifo = os.path.join(tmp, "fifo")
            os.mkfifo(fifo)
            big = os.path.join(tmp, "big.toml")
            with open(big, "w") as f:
                f.write("# padding\n" * 200_000)
            for path in (tmp, "/dev/null", "/dev/zero", fifo, big):
                r = self.run_with(path)
                self.assertEqual(r.returncode, EX_CONFIG, (path, r.stderr))
                self.assertIn(path, r.stderr)
                self.assertTrue("regular file" in r.stderr or "too large" in r.stderr, r.stderr)


class MqttStringsTest(unittest.TestCase):
    """Item 11: one validation of MQTT strings for the config and REST."""

    def start(self, mqtt_section):
        with tempfile.TemporaryDirectory(prefix="evsed-mqttcfg-") as tmp:
            cfg = os.path.join(tmp, "evsed.toml")
            with open(cfg, "w") as f:
                f.write("[mqtt]\n" + mqtt_section)
            return subprocess.run([BINARY, "--simulate", "--config", cfg, "--state-dir", tmp, "--listen",
                                   "127.0.0.1:0"], capture_output=True, text=True, timeout=10)

    def test_the_config_refuses_control_characters_and_huge_values(self):
        for section, key in (('topic_prefix = "a\\u0000b"\n', "mqtt.topic_prefix"),
                             ('host = "broker\\nx"\n', "mqtt.host"),
                             ('host = "' + "h" * 10_000 + '"\n', "mqtt.host"),
                             ('password = "p\\u0007w"\n', "mqtt.password")):
            r = self.start(section)
            self.assertEqual(r.returncode, EX_CONFIG, (key, r.stderr[-300:]))
            self.assertIn(key, r.stderr)

    def test_rest_refuses_invalid_utf8_and_saves_nothing(self):
        evsed = Evsed(config_text=API_CONFIG)
        try:
            evsed.wait_ready()
            http = Http(evsed.port)
            self.assertEqual(http.post("/settings?mqtt_update=1&mqtt_host=broker.invalid&mqtt_password=ok").status,
                             200)
            with open(os.path.join(evsed.state_dir, "mqtt.json")) as f:
                saved = f.read()
            for query, key in (("mqtt_password=%FF%FE", "mqtt_password"), ("mqtt_username=%C3%28", "mqtt_username"),
                               ("mqtt_topic_prefix=a%0Ab", "mqtt_topic_prefix"),
                               ("mqtt_host=" + "h" * 300, "mqtt_host")):
                r = http.post("/settings?mqtt_update=1&" + query).json()
                self.assertIn(key, r.get("mqtt_update", ""), (query, r))
                with open(os.path.join(evsed.state_dir, "mqtt.json")) as f:
                    self.assertEqual(f.read(), saved, query)
            self.assertTrue(http.settings()["mqtt"]["password_set"])
        finally:
            evsed.close()


class CaCertificateTest(unittest.TestCase):
    """Item 12: a real-size CA is accepted; one too large is refused, not dropped."""

    def pem(self, size):
        body = "A" * size
        lines = "\n".join(body[i:i + 64] for i in range(0, len(body), 64))
        return "-----BEGIN CERTIFICATE-----\n" + lines + "\n-----END CERTIFICATE-----\n"

    def test_large_certificates(self):
        evsed = Evsed(config_text=API_CONFIG)
        try:
            evsed.wait_ready()
            http = Http(evsed.port)
            ca = self.pem(2900)  # an RSA-4096 root is about 2.1 KB of base64
            r = http.post("/settings", body="mqtt_update=1&mqtt_tls=1&mqtt_host=b.invalid&mqtt_ca_cert=" + quote(ca),
                          headers={"Content-Type": "application/x-www-form-urlencoded"})
            self.assertEqual(r.json().get("mqtt_ca_cert_set"), True, r)
            with open(os.path.join(evsed.state_dir, "mqtt.json")) as f:
                self.assertIn(ca.splitlines()[1], f.read())
            too_big = self.pem(20_000)
            r = http.post("/settings", body="mqtt_update=1&mqtt_tls=0&mqtt_ca_cert=" + quote(too_big),
                          headers={"Content-Type": "application/x-www-form-urlencoded"})
            self.assertIn(r.status, (200, 400), r)
            self.assertIn("mqtt_ca_cert", r.text)
            self.assertIn("large", r.text)
            self.assertTrue(http.settings()["mqtt"]["tls"], "nothing in the refused request was applied")
        finally:
            evsed.close()


class ConnectionLimitsTest(unittest.TestCase):
    """Item 13: the header deadline runs from the first byte; connections are capped per client."""

    @classmethod
    def setUpClass(cls):
        cls.evsed = Evsed(config_text=API_CONFIG)
        cls.evsed.wait_ready()

    @classmethod
    def tearDownClass(cls):
        cls.evsed.close()

    def test_slow_headers_get_the_header_deadline(self):
        s = socket.create_connection(("127.0.0.1", self.evsed.port), timeout=30)
        start = time.monotonic()
        s.sendall(b"GET /settings HTTP/1.1\r\n")
        closed_after = None
        try:
            while time.monotonic() - start < 25:
                s.sendall(b"X-Slow: y\r\n")
                s.settimeout(0.5)
                try:
                    if s.recv(100) == b"":
                        closed_after = time.monotonic() - start
                        break
                except socket.timeout:
                    pass
        except (BrokenPipeError, ConnectionResetError):
            closed_after = time.monotonic() - start
        finally:
            s.close()
        self.assertIsNotNone(closed_after, "never closed")
        self.assertLess(closed_after, 15, "the 10 s header deadline was not kept")

    def test_one_client_cannot_take_every_connection(self):
        held = []
        try:
            for _ in range(80):
                held.append(socket.create_connection(("127.0.0.1", self.evsed.port), timeout=5))
            time.sleep(0.5)
            closed = 0
            for s in held:
                s.settimeout(0.05)
                try:
                    if s.recv(10) == b"":
                        closed += 1
                except socket.timeout:
                    pass
                except ConnectionResetError:
                    closed += 1
            self.assertGreaterEqual(closed, 80 - 64, "connections beyond the per-client limit are closed")
            # Another address still gets in.
            other = socket.socket()
            other.bind(("127.0.0.2", 0))
            other.settimeout(5)
            other.connect(("127.0.0.1", self.evsed.port))
            other.sendall(b"GET /settings HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
            self.assertTrue(other.recv(100).startswith(b"HTTP/1.1 200"))
            other.close()
        finally:
            for s in held:
                s.close()


class TransferEncodingTest(unittest.TestCase):
    """Item 14: a transfer coding evsed cannot decode is refused."""

    def test_gzip_chunked_is_501(self):
        evsed = Evsed(config_text=API_CONFIG)
        try:
            evsed.wait_ready()
            reply = raw_http(evsed.port, b"POST /settings HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                                         b"Content-Type: application/x-www-form-urlencoded\r\n"
                                         b"Transfer-Encoding: gzip, chunked\r\nConnection: close\r\n\r\n"
                                         b"a\r\nmode=0&x=1\r\n0\r\n\r\n")
            self.assertTrue(reply.startswith("HTTP/1.1 501"), reply)
            self.assertNotEqual(Http(evsed.port).settings()["mode"], "OFF")
            reply = raw_http(evsed.port, b"POST /settings HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                                         b"Content-Type: application/x-www-form-urlencoded\r\n"
                                         b"Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
                                         b"c\r\nstop_timer=6\r\n0\r\n\r\n")
            self.assertTrue(reply.startswith("HTTP/1.1 200"), reply)
        finally:
            evsed.close()


class DelayedChargingInputTest(unittest.TestCase):
    """Item 15: impossible dates and times are refused with the reason."""

    def test_invalid_dates_and_dst_gaps(self):
        evsed = Evsed(config_text=API_CONFIG, env={"TZ": "Europe/Amsterdam"})
        try:
            evsed.wait_ready()
            http = Http(evsed.port)
            http.post("/currents?L1=10&L2=10&L3=10")
            before = http.settings()
            # 2027-03-28 02:00..03:00 does not exist in Amsterdam (summer time starts).
            for query, key in (("starttime=2027-02-29T10:00", "starttime"),
                               ("starttime=2027-13-01T10:00", "starttime"),
                               ("starttime=2027-03-28T02:30", "starttime"),
                               ("starttime=2027-03-28T01:30&stoptime=2027-03-28T02:15&repeat=1", "stoptime"),
                               ("starttime=2027-03-28T04:30&stoptime=2027-03-28T03:15&repeat=1", "stoptime"),
                               ("starttime=2027-03-27T10:00&stoptime=tomorrow", "stoptime")):
                r = http.post("/settings?mode=1&" + query)
                self.assertEqual(r.status, 200, r)
                reply = r.json()
                self.assertEqual(reply["mode"], "Value not allowed!", (query, reply))
                self.assertIsInstance(reply[key], str, (query, reply))
                s = http.settings()
                self.assertEqual(s["settings"]["starttime"], before["settings"]["starttime"], query)
                self.assertEqual(s["settings"]["stoptime"], before["settings"]["stoptime"], query)
                self.assertEqual(s["mode_id"], before["mode_id"], query)
            r = http.post("/settings?mode=1&starttime=2027-03-28T01:30&stoptime=2027-03-28T04:15&repeat=1").json()
            self.assertEqual(r["mode"], "1")
            self.assertGreater(r["stoptime"], r["starttime"])
        finally:
            evsed.close()


class ConfigErrorTest(unittest.TestCase):
    """Item 16: configuration errors name the file and the key."""

    def check(self, text, *expected):
        with tempfile.TemporaryDirectory(prefix="evsed-cfgerr-") as tmp:
            cfg = os.path.join(tmp, "evsed.toml")
            with open(cfg, "w") as f:
                f.write(text)
            r = subprocess.run([BINARY, "--config", cfg, "--state-dir", tmp], capture_output=True, text=True,
                               timeout=10)
            self.assertEqual(r.returncode, EX_CONFIG, r.stderr)
            for e in expected:
                self.assertIn(e, r.stderr)
            self.assertIn(cfg, r.stderr)

    def test_listen_and_integer_overflow(self):
        self.check('[http]\nlisten = "charger:80"\n', "http.listen")
        self.check('[http]\nlisten = "300.1.1.1:80"\n', "http.listen")
        self.check("[evse]\ncurrent_max = 99999999999999999999\n", "evse.current_max", "line 2")


class FloatMeterTest(unittest.TestCase):
    """Item 17: scaled values are rounded, not truncated."""

    def test_float_registers_round_to_the_nearest_deci_amp(self):
        with tempfile.TemporaryDirectory(prefix="evsed-float-") as tmp:
            bus = PtyBus(tmp)
            meters = MeterSim(bus.meter, "Eastron3P@10")
            evsed = Evsed(config_text=f'[mains_meter]\ntype = "Eastron3P"\naddress = 10\n[modbus]\nport = "{bus.evse}"\n'
                                      'poll_interval_ms = 300\n')
            try:
                evsed.wait_ready()
                http = Http(evsed.port)
                meters.command("set 10 currents 5.2 3.1 0.7")

                def mains():
                    pc = http.settings()["phase_currents"]
                    return pc["L1"], pc["L2"], pc["L3"]

                self.assertTrue(wait_until(lambda: mains() == (52, 31, 7), 5), mains())
            finally:
                evsed.close()
                meters.close()
                bus.close()

    def test_a_peer_we_did_not_write(self):
        with tempfile.TemporaryDirectory(prefix="evsed-float-peer-") as tmp:
            bus = PtyBus(tmp)
            server = subprocess.Popen(
                ["/usr/bin/python3", os.path.join(os.path.dirname(__file__), "pymodbus_sdm630.py"), bus.meter, "10",
                 "5.2", "3.1", "0.7", "1196", "713", "161", "10.2", "0.3"],
                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            try:
                self.assertEqual(server.stdout.readline().strip(), "ready")
                evsed = Evsed(config_text=f'[mains_meter]\ntype = "Eastron3P"\naddress = 10\n[modbus]\n'
                                          f'port = "{bus.evse}"\npoll_interval_ms = 300\n')
                try:
                    evsed.wait_ready()
                    http = Http(evsed.port)

                    def mains():
                        pc = http.settings()["phase_currents"]
                        return pc["L1"], pc["L2"], pc["L3"]

                    self.assertTrue(wait_until(lambda: mains() == (52, 31, 7), 5), mains())
                    mm = wait_until(lambda: http.settings().get("mains_meter"), 5)
                    self.assertEqual(mm["import_active_energy"], 10_200)
                finally:
                    evsed.close()
            finally:
                server.terminate()
                server.wait()
                server.stdout.close()
                server.stderr.close()
                bus.close()


class BenchCleanupTest(unittest.TestCase):
    """Item 18: a bench script cleans up every process it started, so a pipe through tail ends."""

    def test_modbus_bench_returns_through_a_pipe(self):
        source = os.environ.get("EVSED_SOURCE", os.path.join(os.path.dirname(__file__), "..", ".."))
        r = subprocess.run(f"bench/modbus.sh 2 | tail -n 2", shell=True, cwd=source, capture_output=True,
                           text=True, timeout=120, executable="/bin/bash")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("ratio", r.stdout)
        leftovers = subprocess.run(["pgrep", "-f", "evsed-meter-sim --device /tmp/tmp"], capture_output=True,
                                   text=True)
        self.assertEqual(leftovers.stdout.strip(), "")


class LedTest(unittest.TestCase):
    """Item 19: the LED line is driven per state, mode and error."""

    def test_led_follows_the_charge_point(self):
        from test_hardware import FakeBoard, LINES  # noqa: E402
        LINES.setdefault("GPIO6", 6)
        board = FakeBoard()
        board.write(os.path.join(board.gpio, "names", "GPIO6"), "gpiochip0:6")
        board.write(os.path.join(board.gpio, "gpiochip0", "6"), "0")
        evsed = Evsed(config_text=board.config() + 'led = "GPIO6"\n', env=board.env(), simulate=False)
        try:
            evsed.wait_ready()
            http = Http(evsed.port)

            def seen(seconds):
                values = set()
                end = time.monotonic() + seconds
                while time.monotonic() < end:
                    v = board.line("GPIO6")
                    if v:  # the fake line file can be read between its truncate and write
                        values.add(v)
                    time.sleep(0.02)
                return values

            self.assertTrue(wait_until(lambda: seen(0.5) == {"1"}, 5), "ready: steady on in the mode colour")
            self.assertEqual(http.settings()["evsed"]["led"]["pattern"], "on")
            http.post("/settings?mode=0")
            self.assertTrue(wait_until(lambda: seen(0.5) == {"0"}, 5), "access off: off")
            http.post("/settings?mode=1")
            board.write(os.path.join(board.sys, "class/thermal/thermal_zone0/temp"), "80000")
            self.assertTrue(wait_until(lambda: http.settings()["evse"]["error"] == "Temperature High", 5))
            self.assertEqual(seen(1.5), {"0", "1"}, "an error flashes")
            self.assertEqual(http.settings()["evsed"]["led"]["pattern"], "fast_blink")
            self.assertEqual(http.settings()["evsed"]["led"]["color"], {"R": 255, "G": 0, "B": 0})
        finally:
            evsed.close()
            board.close()


if __name__ == "__main__":
    unittest.main()
