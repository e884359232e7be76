"""MQTT against a real mosquitto broker started here, checked with paho-mqtt (which we did not write)."""

import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from evsed_harness import Evsed, Http, free_port, wait_until  # noqa: E402

import paho.mqtt.client as paho  # Debian's python3-paho-mqtt

PREFIX = "SmartEVSE-12345"


class Mosquitto:
    """A broker of our own on a free loopback port, with its own temporary config."""

    def __init__(self, port=None, extra=""):
        self.tmp = tempfile.TemporaryDirectory(prefix="evsed-mosquitto-")
        self.port = port or free_port()
        self.conf = os.path.join(self.tmp.name, "mosquitto.conf")
        with open(self.conf, "w") as f:
            f.write(f"per_listener_settings false\nlistener {self.port} 127.0.0.1\nallow_anonymous true\n"
                    "persistence false\nlog_dest stderr\n" + extra)
            if os.geteuid() == 0:
                f.write("user root\n")
        self.proc = None
        self.start()

    def start(self):
        self.proc = subprocess.Popen(["mosquitto", "-c", self.conf], stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)
        import socket

        def accepting():
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return True
            except OSError:
                return False

        if not wait_until(accepting, 5, 0.05):
            raise AssertionError("mosquitto did not start")

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait()

    def close(self):
        self.stop()
        self.tmp.cleanup()


class Client:
    """A paho-mqtt subscriber that records every message with its retain flag."""

    def __init__(self, port, topics=("#",)):
        self.messages = []
        self.lock = threading.Lock()
        # paho-mqtt 2 (Debian 13) asks which callback signatures we use: 1.x's.
        api = {"callback_api_version": paho.CallbackAPIVersion.VERSION1} if hasattr(paho, "CallbackAPIVersion") else {}
        self.client = paho.Client(client_id=f"test-{time.monotonic_ns()}", clean_session=True, **api)
        self.client.on_message = self._on_message
        subscribed = threading.Event()
        self.client.on_subscribe = lambda *a: subscribed.set()
        self.client.connect("127.0.0.1", port, keepalive=30)
        self.client.loop_start()
        self.client.subscribe([(t, 1) for t in topics])
        assert subscribed.wait(5), "subscription not acknowledged"

    def _on_message(self, client, userdata, msg):
        with self.lock:
            self.messages.append((msg.topic, msg.payload.decode(errors="replace"), bool(msg.retain)))

    def publish(self, topic, payload, retain=False):
        self.client.publish(topic, payload, qos=1, retain=retain).wait_for_publish(5)

    def seen(self):
        with self.lock:
            return list(self.messages)

    def last(self, topic):
        for t, payload, _ in reversed(self.seen()):
            if t == topic:
                return payload
        return None

    def wait_for(self, topic, payload=None, timeout=10):
        def found():
            return any(t == topic and (payload is None or p == payload) for t, p, _ in self.seen())

        return wait_until(found, timeout, 0.05)

    def clear(self):
        with self.lock:
            self.messages.clear()

    def close(self):
        self.client.loop_stop()
        self.client.disconnect()


def config(port, api_meters=False, extra="", evse_extra=""):
    meters = """
[mains_meter]
type = "API"
[ev_meter]
type = "API"
[circuit_meter]
type = "API"
""" if api_meters else ""
    return f"""
serial = 12345
[evse]
config = "Socket"
lock = "Solenoid"
{evse_extra}
{meters}
[mqtt]
host = "127.0.0.1"
port = {port}
topic_prefix = "{PREFIX}"
{extra}
"""


class MqttCase(unittest.TestCase):
    api_meters = False
    evse_extra = ""

    def setUp(self):
        self.broker = Mosquitto()
        self.client = Client(self.broker.port)
        self.evsed = Evsed(config_text=config(self.broker.port, self.api_meters, evse_extra=self.evse_extra))
        self.evsed.wait_ready()
        self.http = Http(self.evsed.port)
        self.assertTrue(self.client.wait_for(f"{PREFIX}/connected", "online"), self.evsed.log)

    def tearDown(self):
        self.evsed.close()
        self.client.close()
        self.broker.close()

    def set(self, name, payload):
        self.client.publish(f"{PREFIX}/Set/{name}", payload)

    def settings(self):
        return self.http.settings()


class PublishTest(MqttCase):
    RETAINED = {"connected", "Mode", "MaxCurrent", "MaxSumMains", "MaxSumMainsTime", "ChargeCurrent",
                "ChargeCurrentOverride", "NrOfPhases", "Access", "RFID", "EnableC2", "State", "StateID", "Error",
                "EVPlugState", "OCPP", "LEDColorOff", "LEDColorNormal", "LEDColorSmart", "LEDColorSolar",
                "LEDColorCustom", "CableLock", "LoadBl"}
    LIVE = {"MainsCurrentL1", "MainsCurrentL2", "MainsCurrentL3", "ESPTemp", "CustomButton", "OCPPConnection",
            "ESPUptime", "SolarStopTimer"}

    def test_every_topic_arrives_with_its_retain_flag_and_value(self):
        # Let the first full publish (which ends with SolarStopTimer) reach the broker first.
        self.assertTrue(self.client.wait_for(f"{PREFIX}/SolarStopTimer", timeout=5))
        time.sleep(0.3)
        fresh = Client(self.broker.port, (f"{PREFIX}/#",))
        try:
            self.set("CustomButton", "Off")  # any /Set makes evsed publish everything at once
            self.assertTrue(wait_until(lambda: {t.split("/", 1)[1] for t, _, _ in fresh.seen()} >= self.RETAINED | self.LIVE,
                                       5), sorted({t for t, _, _ in fresh.seen()}))
            retained = {t.split("/", 1)[1] for t, _, r in fresh.seen() if r}
            self.assertEqual(retained & (self.RETAINED | self.LIVE), self.RETAINED)
            values = {t.split("/", 1)[1]: p for t, p, _ in fresh.seen()}
            self.assertEqual(values["connected"], "online")
            self.assertEqual(values["Mode"], "Normal")
            self.assertEqual(values["MaxCurrent"], "160")  # dA
            self.assertEqual(values["StateID"], "A")  # a name, not a number
            self.assertEqual(values["State"], "Ready to Charge")
            self.assertEqual(values["NrOfPhases"], "3")
            self.assertEqual(values["Access"], "Allow")
            self.assertEqual(values["EnableC2"], "Always On")
            self.assertEqual(values["LEDColorSolar"], "255,170,0")
            self.assertEqual(values["CableLock"], "0")
            self.assertEqual(values["EVPlugState"], "Disconnected")
            self.assertNotIn("WiFiRSSI", values)  # a wired board has no Wi-Fi
        finally:
            fresh.close()

    def test_online_is_retained(self):
        late = Client(self.broker.port, (f"{PREFIX}/connected",))
        try:
            self.assertTrue(wait_until(lambda: late.seen(), 3))
            self.assertEqual(late.seen()[0], (f"{PREFIX}/connected", "online", True))
        finally:
            late.close()

    def test_changes_are_published_on_change(self):
        self.client.clear()
        self.http.post("/simulator?ev=B")
        # On change, not only with the periodic republish (10 s).
        self.assertTrue(self.client.wait_for(f"{PREFIX}/StateID", "B", 3))
        self.assertTrue(self.client.wait_for(f"{PREFIX}/EVPlugState", "Connected", 2))

    def test_the_last_session_is_published_retained_at_its_end(self):
        self.http.post("/simulator?ev=C")
        self.assertTrue(self.client.wait_for(f"{PREFIX}/StateID", "C", 10))
        self.assertTrue(wait_until(lambda: int(self.client.last(f"{PREFIX}/SessionEnergy") or 0) > 0, 15),
                        "the running session's energy is published as it grows")
        self.http.post("/simulator?ev=A")
        self.assertTrue(self.client.wait_for(f"{PREFIX}/LastSession", timeout=10))
        summary = json.loads(self.client.last(f"{PREFIX}/LastSession"))
        self.assertEqual(summary["id"], 1)
        self.assertEqual(summary["stop_reason"], "unplugged")
        self.assertFalse(summary["open"])
        self.assertGreater(summary["energy_wh"], 0)
        self.assertEqual(summary, self.http.get("/sessions/1").json(), "the same record as REST's")
        self.assertTrue(self.client.wait_for(f"{PREFIX}/SessionEnergy", "0", 15), "no session: 0")
        late = Client(self.broker.port, (f"{PREFIX}/LastSession",))
        try:
            self.assertTrue(wait_until(lambda: late.seen(), 3))
            topic, payload, retained = late.seen()[0]
            self.assertTrue(retained)
            self.assertEqual(json.loads(payload)["id"], 1)
        finally:
            late.close()
        disc = {t: json.loads(p) for t, p, _ in self.client.seen() if t.startswith("homeassistant/") and p}
        last = disc[f"homeassistant/sensor/{PREFIX}-LastSessionEnergy/config"]
        self.assertEqual(last["state_topic"], f"{PREFIX}/LastSession")
        self.assertEqual(last["value_template"], "{{ value_json.energy_wh }}")
        self.assertEqual(last["device_class"], "energy")
        self.assertEqual(disc[f"homeassistant/sensor/{PREFIX}-SessionEnergy/config"]["state_topic"],
                         f"{PREFIX}/SessionEnergy")

    def test_discovery_payloads(self):
        def announced():
            return [(t, p) for t, p, r in self.client.seen() if t.startswith("homeassistant/") and p]

        self.assertTrue(wait_until(lambda: len(announced()) > 20, 5), announced())
        disc = announced()
        unique = set()
        for topic, payload in disc:
            j = json.loads(payload)
            domain = topic.split("/")[1]
            for key in ("name", "unique_id", "state_topic", "availability_topic", "device"):
                self.assertIn(key, j, topic)
            self.assertEqual(topic, f"homeassistant/{domain}/{j['unique_id']}/config")
            self.assertEqual(j["availability_topic"], f"{PREFIX}/connected")
            self.assertEqual(j["device"]["model"], "evsed")
            self.assertIn("sw_version", j["device"])
            if domain in ("select", "number", "text"):
                self.assertTrue(j["command_topic"].startswith(f"{PREFIX}/Set/"), topic)
            unique.add(j["unique_id"])
        self.assertEqual(len(unique), len(disc))
        mode = json.loads(next(p for t, p in disc if t == f"homeassistant/select/{PREFIX}-Mode/config"))
        self.assertEqual(mode["options"], ["Off", "Normal", "Smart", "Solar", "Pause"])
        # Only the mains meter is configured ("Sim"): no EV meter entities.
        self.assertFalse(any("EVCurrentL1" in t for t, _ in disc))
        self.assertTrue(any("MainsCurrentL1" in t for t, _ in disc))

    def test_every_state_topic_of_discovery_gets_a_value(self):
        self.set("CustomButton", "Off")
        time.sleep(1.5)
        states = {t for t, _, _ in self.client.seen()}
        for t, p, _ in self.client.seen():
            if t.startswith("homeassistant/") and p:
                state = json.loads(p)["state_topic"]
                if state.endswith("ActiveEnergy"):
                    continue  # published once not 0, as SmartEVSE does
                self.assertIn(state, states, t)


class SetTest(MqttCase):
    api_meters = True

    def error_for(self, name, payload):
        self.client.clear()
        self.set(name, payload)
        self.assertTrue(self.client.wait_for(f"{PREFIX}/CommandError", timeout=3), (name, payload))
        errors = [(p, r) for t, p, r in self.client.seen() if t == f"{PREFIX}/CommandError"]
        self.assertFalse(errors[-1][1], "CommandError is not retained")
        return errors[-1][0]

    def test_mode(self):
        self.set("MainsMeter", "10:10:10")
        for payload, mode in (("Smart", "SMART"), ("Solar", "SOLAR"), ("Pause", "PAUSE"), ("Off", "OFF"),
                              ("Normal", "NORMAL")):
            self.set("MainsMeter", "10:10:10")
            self.set("Mode", payload)
            self.assertTrue(wait_until(lambda: self.settings()["mode"] == mode, 3), payload)
        self.assertIn("Bogus", self.error_for("Mode", "Bogus"))
        self.assertIn("not one of", self.error_for("Mode", "normal"))  # exact case, as the firmware
        self.assertEqual(self.settings()["mode"], "NORMAL")

    def test_current_override(self):
        self.set("CurrentOverride", "100")
        self.assertTrue(wait_until(lambda: self.settings()["settings"]["override_current"] == 100, 3))
        self.assertTrue(self.client.wait_for(f"{PREFIX}/ChargeCurrentOverride", "100", 3))
        self.assertIn("not allowed", self.error_for("CurrentOverride", "30"))
        self.assertIn("whole number", self.error_for("CurrentOverride", "ten"))
        self.assertEqual(self.settings()["settings"]["override_current"], 100)
        self.set("CurrentOverride", "0")
        self.assertTrue(wait_until(lambda: self.settings()["settings"]["override_current"] == 0, 3))

    def test_max_sum_mains(self):
        self.set("CurrentMaxSumMains", "40")
        self.assertTrue(wait_until(lambda: self.settings()["settings"]["current_max_sum_mains"] == 40, 3))
        self.assertIn("not allowed", self.error_for("CurrentMaxSumMains", "5"))
        self.assertEqual(self.settings()["settings"]["current_max_sum_mains"], 40)

    def test_meters(self):
        self.set("MainsMeter", "101:-52:30")
        self.assertTrue(wait_until(lambda: self.settings()["phase_currents"]["L2"] == -52, 3))
        self.set("MainsMeter", "100:50:30:6900:1234567")
        self.assertTrue(wait_until(lambda: self.settings().get("mains_meter", {}).get("import_active_energy") == 1234567, 3))
        self.set("EVMeter", "160:161:162:11000:555000")
        self.assertTrue(wait_until(lambda: self.settings()["ev_meter"]["currents"]["L3"] == 162, 3))
        self.assertEqual(self.settings()["ev_meter"]["import_active_power"], 11000)
        self.set("CircuitMeter", "70:71:72")
        self.assertTrue(wait_until(lambda: self.settings().get("circuit_meter", {}).get("currents", {}).get("L1") == 70, 3))
        self.set("HomeBatteryCurrent", "-25")
        self.assertTrue(wait_until(lambda: self.settings()["home_battery"]["current"] == -25, 3))
        # The fed values go out on their topics (after a /Set, at once), not retained.
        for topic, value in (("EVCurrentL1", "160"), ("EVCurrentL3", "162"), ("EVChargePower", "11000"),
                             ("EVImportActiveEnergy", "555000"), ("EVTotalEnergyCharged", "555000"),
                             ("MainsImportActiveEnergy", "1234567"), ("CircuitCurrentL2", "71"),
                             ("HomeBatteryCurrent", "-25")):
            self.assertTrue(self.client.wait_for(f"{PREFIX}/{topic}", value, 5), topic)
            retained = {r for t, p, r in self.client.seen() if t == f"{PREFIX}/{topic}" and p == value}
            self.assertEqual(retained, {False}, topic)
        before = self.settings()["phase_currents"]
        self.assertIn("L1:L2:L3", self.error_for("MainsMeter", "1:2"))
        self.assertIn("-2000..2000", self.error_for("MainsMeter", "1:2:5000"))
        self.assertIn("L1:L2:L3:W:Wh", self.error_for("EVMeter", "1:2:3"))
        self.assertIn("-2000..2000", self.error_for("HomeBatteryCurrent", "9999"))
        after = self.settings()["phase_currents"]
        self.assertEqual((before["L1"], before["L2"], before["L3"]), (after["L1"], after["L2"], after["L3"]))

    def test_panel_and_settings(self):
        self.set("ColorCustom", "1,2,3")
        self.assertTrue(wait_until(lambda: self.settings()["color"]["custom"] == {"R": 1, "G": 2, "B": 3}, 3))
        self.assertTrue(self.client.wait_for(f"{PREFIX}/LEDColorCustom", "1,2,3", 3))
        self.assertIn("R,G,B", self.error_for("ColorCustom", "1,2,300"))
        for topic, key in (("ColorOff", "off"), ("ColorNormal", "normal"), ("ColorSmart", "smart"),
                           ("ColorSolar", "solar")):
            self.set(topic, "4,5,6")
            self.assertTrue(wait_until(lambda: self.settings()["color"][key] == {"R": 4, "G": 5, "B": 6}, 3), topic)
            self.assertIn("R,G,B", self.error_for(topic, "4,5"))
            self.assertEqual(self.settings()["color"][key], {"R": 4, "G": 5, "B": 6}, topic)
        self.assertEqual(self.settings()["color"]["custom"], {"R": 1, "G": 2, "B": 3})
        self.set("CustomButton", "On")
        self.assertTrue(wait_until(lambda: self.settings()["evse"]["custombutton"], 3))
        self.assertIn("On or Off", self.error_for("CustomButton", "on!"))
        self.assertTrue(self.settings()["evse"]["custombutton"])
        self.set("CableLock", "1")
        self.assertTrue(wait_until(lambda: self.settings()["settings"]["cablelock"] == 1, 3))
        self.assertIn("0 or 1", self.error_for("CableLock", "2"))
        self.assertEqual(self.settings()["settings"]["cablelock"], 1)
        self.set("EnableC2", "Always Off")
        self.assertTrue(wait_until(lambda: self.settings()["settings"]["enable_C2"] == "Always Off", 3))
        self.set("EnableC2", "4")
        self.assertTrue(wait_until(lambda: self.settings()["settings"]["enable_C2"] == "Auto", 3))
        self.assertIn("0..4", self.error_for("EnableC2", "7"))
        self.assertIn("0..4", self.error_for("EnableC2", "Sometimes"))
        self.assertEqual(self.settings()["settings"]["enable_C2"], "Auto")
        self.set("CPPWMOverride", "512")
        self.assertTrue(wait_until(lambda: self.settings()["evsed"]["pwm_override"] == 512, 3))
        self.assertIn("-1..1024", self.error_for("CPPWMOverride", "-7"))
        self.assertIn("-1..1024", self.error_for("CPPWMOverride", "1025"))
        self.assertEqual(self.settings()["evsed"]["pwm_override"], 512)
        self.set("CPPWMOverride", "-1")
        self.assertTrue(wait_until(lambda: self.settings()["evsed"]["pwm_override"] is None, 3))
        self.assertIn("RFID", self.error_for("RFID", "112233445566"))
        self.assertIn("unknown", self.error_for("NoSuchThing", "1"))


class ExternalSwitchTest(MqttCase):
    evse_extra = 'switch = "Custom B"'

    def test_the_custom_button_input_is_published(self):
        self.assertTrue(self.client.wait_for(f"{PREFIX}/CustomButton", "Off", 12))
        # Pressed only counts once the released position has been read.
        self.assertTrue(wait_until(lambda: self.settings()["evsed"]["switch"]["closed"] is False, 3))
        self.client.clear()
        self.http.post("/simulator?switch=1")  # pressed: toggles on
        self.assertTrue(self.client.wait_for(f"{PREFIX}/CustomButton", "On", 3), self.evsed.log)
        self.assertTrue(self.settings()["evse"]["custombutton"])
        self.http.post("/simulator?switch=0")  # released: nothing
        self.assertTrue(wait_until(lambda: self.settings()["evsed"]["switch"]["closed"] is False, 3))
        self.assertTrue(self.settings()["evse"]["custombutton"])
        self.client.clear()
        self.http.post("/simulator?switch=1")  # pressed again: off
        self.assertTrue(self.client.wait_for(f"{PREFIX}/CustomButton", "Off", 3))


class ConnectionTest(MqttCase):
    def test_sigkill_makes_the_broker_publish_offline(self):
        self.evsed.proc.send_signal(signal.SIGKILL)
        self.evsed.proc.wait()
        # keep-alive 15 s x 1.5 at most before the broker notices
        self.assertTrue(self.client.wait_for(f"{PREFIX}/connected", "offline", 30))
        late = Client(self.broker.port, (f"{PREFIX}/connected",))
        try:
            self.assertTrue(wait_until(lambda: late.seen(), 3))
            self.assertEqual(late.seen()[0][1:], ("offline", True))
        finally:
            late.close()

    def test_sigterm_says_offline(self):
        self.evsed.stop()
        self.assertTrue(self.client.wait_for(f"{PREFIX}/connected", "offline", 5))

    def test_broker_restart(self):
        self.broker.stop()
        self.assertTrue(wait_until(lambda: self.settings()["mqtt"]["status"] == "Disconnected", 10))
        time.sleep(2)
        self.broker.start()
        fresh = Client(self.broker.port)
        try:
            # Backoff 1, 2, 4 s (+-20 %) while the broker was away: back well within 15 s.
            self.assertTrue(fresh.wait_for(f"{PREFIX}/connected", "online", 15), self.evsed.log)
            self.assertTrue(fresh.wait_for(f"homeassistant/select/{PREFIX}-Mode/config", timeout=5))
            self.assertTrue(fresh.wait_for(f"{PREFIX}/StateID", "A", 5))
            self.assertEqual(self.settings()["mqtt"]["status"], "Connected")
        finally:
            fresh.close()

    def test_rest_moves_evsed_to_another_broker(self):
        other = Mosquitto()
        watcher = Client(other.port)
        try:
            r = self.http.post(f"/settings?mqtt_update=1&mqtt_host=127.0.0.1&mqtt_port={other.port}")
            self.assertEqual(r.json()["mqtt_port"], other.port)
            self.assertTrue(watcher.wait_for(f"{PREFIX}/connected", "online", 10))
            self.assertTrue(self.client.wait_for(f"{PREFIX}/connected", "offline", 5))
            self.assertTrue(watcher.wait_for(f"homeassistant/select/{PREFIX}-Mode/config", timeout=5))
            self.assertEqual(self.settings()["mqtt"]["port"], other.port)
        finally:
            watcher.close()
            other.close()

    def test_discovery_can_be_turned_off(self):
        self.evsed.stop()
        self.evsed.close()
        # The first instance's last word; what it announced before can no longer
        # be on its way to our client after this.
        self.assertTrue(self.client.wait_for(f"{PREFIX}/connected", "offline", 5))
        self.client.clear()
        self.evsed = Evsed(config_text=config(self.broker.port, extra="discovery = false"))
        self.evsed.wait_ready()
        self.assertTrue(self.client.wait_for(f"{PREFIX}/connected", "online"))
        time.sleep(1)
        announced = [t for t, p, _ in self.client.seen() if t.startswith("homeassistant/") and p]
        self.assertEqual(announced, [])
        # What an earlier run announced is withdrawn (empty retained payloads).
        self.assertTrue(self.client.wait_for(f"homeassistant/select/{PREFIX}-Mode/config", "", 3))


if __name__ == "__main__":
    unittest.main()


class MqttSecretsTest(unittest.TestCase):
    """Issue 16: the broker password, an admin password and an API token never reach a topic."""

    def test_no_secret_on_any_topic(self):
        import base64
        import subprocess
        import tempfile
        from evsed_harness import BINARY
        secret_mqtt, secret_admin = "mqtt-topic-secret-99", "admin-topic-secret-42"
        broker = Mosquitto()
        client = Client(broker.port)
        state = tempfile.TemporaryDirectory(prefix="evsed-mqtt-secrets-")
        subprocess.run([BINARY, "passwd", "admin", "--state-dir", state.name], input=secret_admin + "\n",
                       check=True, capture_output=True, text=True)
        evsed = Evsed(config_text=config(broker.port, extra=f'username = "u"\npassword = "{secret_mqtt}"\n'),
                      state_dir=state.name)
        try:
            evsed.wait_ready()
            self.assertTrue(client.wait_for(f"{PREFIX}/connected", "online"), evsed.log)
            http = Http(evsed.port)
            token = http.post("/tokens?name=ha").json()["token"]
            auth = {"Authorization": "Basic " + base64.b64encode(f"admin:{secret_admin}".encode()).decode()}
            self.assertEqual(http.post("/settings?solar_start_current=5", headers=auth).status, 200)
            http.post("/simulator?ev=C")
            self.assertTrue(client.wait_for(f"{PREFIX}/StateID", "C", 10))
            http.post("/simulator?ev=A")
            self.assertTrue(client.wait_for(f"{PREFIX}/LastSession", timeout=10))
            time.sleep(11)  # one full republish of every topic
            everything = "\n".join(f"{t} {p}" for t, p, _ in client.seen())
            self.assertGreater(len(client.seen()), 50)
            for secret in (secret_mqtt, secret_admin, token, token[6:]):
                self.assertNotIn(secret, everything)
                self.assertNotIn(secret, "\n".join(evsed.log))
        finally:
            evsed.close()
            client.close()
            broker.close()
            state.cleanup()


def openssl(d, *args):
    subprocess.run(["openssl", *args], check=True, capture_output=True, cwd=d)


def signed(d, ca, name, subject_alt):
    """A P-256 key and a certificate for `subject_alt` that `ca` signed (Debian's openssl)."""
    openssl(d, "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-subj", f"/CN={name}",
            "-keyout", f"{name}.key", "-out", f"{name}.csr")
    with open(os.path.join(d, f"{name}.cnf"), "w") as f:
        f.write(f"subjectAltName={subject_alt}\n")
    openssl(d, "x509", "-req", "-in", f"{name}.csr", "-CA", f"{ca}.pem", "-CAkey", f"{ca}.key", "-CAcreateserial",
            "-days", "2", "-extfile", f"{name}.cnf", "-out", f"{name}.pem")
    os.chmod(os.path.join(d, f"{name}.key"), 0o600)
    return os.path.join(d, f"{name}.pem"), os.path.join(d, f"{name}.key")


class MqttTlsTest(unittest.TestCase):
    """Issue 16: TLS to a real mosquitto that asks for client certificates; the
    broker's chain and name are verified. The test's own subscriber uses a
    plain listener of the same broker."""

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory(prefix="evsed-mqtt-tls-")
        d = cls.tmp.name
        openssl(d, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "2",
                "-subj", "/CN=evsed test broker CA", "-keyout", "ca.key", "-out", "ca.pem")
        cls.ca = os.path.join(d, "ca.pem")
        server, server_key = signed(d, "ca", "broker", "IP:127.0.0.1")
        other, other_key = signed(d, "ca", "elsewhere", "DNS:elsewhere.example")
        cls.client_cert, cls.client_key = signed(d, "ca", "evsed", "DNS:evsed")
        cls.tls_port, cls.wrong_name_port = free_port(), free_port()
        cls.broker = Mosquitto(extra=(
            f"listener {cls.tls_port} 127.0.0.1\ncafile {cls.ca}\ncertfile {server}\nkeyfile {server_key}\n"
            "require_certificate true\n"
            f"listener {cls.wrong_name_port} 127.0.0.1\ncafile {cls.ca}\ncertfile {other}\nkeyfile {other_key}\n"))
        cls.client = Client(cls.broker.port)

    @classmethod
    def tearDownClass(cls):
        cls.client.close()
        cls.broker.close()
        cls.tmp.cleanup()

    def run_evsed(self, prefix, port, extra):
        text = f'serial = 12345\n[mqtt]\nhost = "127.0.0.1"\nport = {port}\ntopic_prefix = "{prefix}"\ntls = true\n{extra}'
        evsed = Evsed(config_text=text)
        self.addCleanup(evsed.close)
        evsed.wait_ready()
        return evsed

    def test_a_client_certificate_gets_in(self):
        evsed = self.run_evsed("tls-ok", self.tls_port, f'ca_file = "{self.ca}"\nclient_cert = "{self.client_cert}"\n'
                                                          f'client_key = "{self.client_key}"\n')
        self.assertTrue(self.client.wait_for("tls-ok/connected", "online", 15), evsed.log)
        self.assertTrue(self.client.wait_for("tls-ok/State", timeout=10))
        self.assertEqual(Http(evsed.port).settings()["mqtt"]["status"], "Connected")

    def refused(self, prefix, port, extra):
        evsed = self.run_evsed(prefix, port, extra)
        self.assertTrue(evsed.wait_log("retrying", 15), evsed.log)
        self.assertFalse(any(t.startswith(prefix + "/") for t, _, _ in self.client.seen()), "nothing got through")
        self.assertNotEqual(Http(evsed.port).settings()["mqtt"]["status"], "Connected")

    def test_without_a_client_certificate_the_broker_refuses(self):
        self.refused("tls-nocert", self.tls_port, f'ca_file = "{self.ca}"\n')

    def test_a_broker_signed_by_an_unknown_ca_is_refused(self):
        self.refused("tls-unknown-ca", self.tls_port,
                     f'client_cert = "{self.client_cert}"\nclient_key = "{self.client_key}"\n')  # the system's CAs

    def test_a_certificate_for_another_name_is_refused(self):
        self.refused("tls-wrong-name", self.wrong_name_port, f'ca_file = "{self.ca}"\nclient_cert = "{self.client_cert}"\n'
                                                               f'client_key = "{self.client_key}"\n')

    def test_a_key_every_user_may_read_is_a_configuration_error(self):
        from evsed_harness import BINARY
        loose = os.path.join(self.tmp.name, "loose.key")
        with open(self.client_key) as src, open(loose, "w") as dst:
            dst.write(src.read())
        os.chmod(loose, 0o644)
        cfg = os.path.join(self.tmp.name, "loose.toml")
        with open(cfg, "w") as f:
            f.write(f'[mqtt]\nclient_cert = "{self.client_cert}"\nclient_key = "{loose}"\n')
        r = subprocess.run([BINARY, "--check-config", "--config", cfg, "--state-dir", self.tmp.name],
                           capture_output=True, text=True, timeout=10)
        self.assertEqual(r.returncode, 78, r.stdout)
        self.assertIn("mqtt.client_key", r.stdout)
        self.assertIn("every user may read it", r.stdout)
