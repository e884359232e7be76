"""SmartEVSE REST API of the real evsed binary, over real HTTP on loopback."""

import json
import os
import socket
import sys
import threading
import time
import unittest
from datetime import datetime, timedelta

sys.path.insert(0, os.path.dirname(__file__))
from evsed_harness import Evsed, Http, read_json, wait_until  # noqa: E402

API_CONFIG = """
serial = 12345
[evse]
current_max = 16
[mains_meter]
type = "API"
[ev_meter]
type = "API"
address = 11
"""

TOP_LEVEL_ORDER = ["version", "serialnr", "mode", "mode_id", "car_connected", "eth", "evse", "settings", "mqtt",
                   "ocpp", "home_battery", "ev_meter", "phase_currents", "backlight", "color", "evsed"]
EVSE_ORDER = ["temp", "temp_max", "connected", "access", "mode", "loadbl", "pwm", "custombutton", "solar_stop_timer",
              "state", "state_id", "error", "error_id", "rfidreader", "nrofphases", "rfid"]
SETTINGS_ORDER = ["charge_current", "override_current", "current_min", "current_max", "current_main",
                  "current_max_circuit", "current_max_sum_mains", "max_sum_mains_time", "solar_max_import",
                  "solar_start_current", "solar_stop_time", "enable_C2", "mains_meter", "starttime", "stoptime",
                  "repeat", "lcdlock", "lock", "cablelock", "ledmode", "capacity_mode", "intervals", "modem"]


class ApiCase(unittest.TestCase):
    """One evsed with API mains and EV meters per test class."""

    config = API_CONFIG

    @classmethod
    def setUpClass(cls):
        cls.evsed = Evsed(config_text=cls.config)
        cls.evsed.wait_ready()
        cls.http = Http(cls.evsed.port)

    @classmethod
    def tearDownClass(cls):
        cls.evsed.close()

    def post(self, query, body=None, headers=None):
        return self.http.post(query, body=body, headers=headers)

    def settings(self):
        return self.http.settings()

    def feed_mains(self, l1=20, l2=20, l3=20):
        r = self.post(f"/currents?L1={l1}&L2={l2}&L3={l3}")
        self.assertEqual(r.status, 200, r)

    def state_file(self):
        with open(self.evsed.settings_path) as f:
            return f.read()

    def assert_rejected_changes_nothing(self, query, key, expected_reply_value):
        time.sleep(1.2)  # let an earlier accepted change reach the file first
        before = self.settings()
        before_file = self.state_file()
        r = self.post(query)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json()[key], expected_reply_value, r)
        after = self.settings()
        for group in ("settings", "evse"):
            for k, v in before[group].items():
                if k in ("temp", "pwm", "solar_stop_timer"):
                    continue
                self.assertEqual(after[group][k], v, f"{group}.{k} changed by {query}")
        self.assertEqual(after["mode_id"], before["mode_id"])
        time.sleep(1.2)  # a save would happen within the next housekeeping second
        self.assertEqual(self.state_file(), before_file, f"state file changed by {query}")


class GetSettingsTest(ApiCase):
    def test_key_order_and_types(self):
        s = self.settings()
        self.assertEqual([k for k in s if k in TOP_LEVEL_ORDER], TOP_LEVEL_ORDER)
        self.assertEqual(list(s["evse"]), EVSE_ORDER)
        self.assertEqual(list(s["settings"]), SETTINGS_ORDER)
        self.assertIsInstance(s["evse"]["access"], int)
        self.assertIsInstance(s["serialnr"], int)
        self.assertEqual(s["serialnr"], 12345)
        self.assertEqual(s["mode"], "NORMAL")
        self.assertEqual(s["mode_id"], 1)
        self.assertEqual(s["settings"]["mains_meter"], "API")
        self.assertEqual(s["ev_meter"]["description"], "API")
        self.assertEqual(s["ev_meter"]["address"], 11)
        self.assertEqual(s["evse"]["state"], "Ready to Charge")
        self.assertEqual(s["evse"]["pwm"], 1024)
        self.assertEqual(list(s["phase_currents"]["original_data"]), ["TOTAL", "L1", "L2", "L3"])
        self.assertIn("charging_L1", s["phase_currents"])
        self.assertIsInstance(s["ev_meter"]["total_kwh"], float)
        self.assertEqual(s["settings"]["modem"], "Not present")
        self.assertIn("present", s["eth"])
        self.assertEqual(set(s["color"]), {"off", "normal", "smart", "solar", "custom"})

    def test_evsed_object_says_why(self):
        x = self.settings()["evsed"]
        for key in ("limited_by", "timers", "meters", "errors", "offered_current", "pilot"):
            self.assertIn(key, x)
        self.assertIn("age_s", x["meters"]["mains"])

    def test_mains_energy_object_absent_without_energy(self):
        self.assertNotIn("mains_meter", self.settings())


class PostSettingsTest(ApiCase):
    def test_nothing_applied_replies_null(self):
        r = self.post("/settings")
        self.assertEqual((r.status, r.text), (200, "null"))
        self.assertEqual(self.post("/settings?unknown=1").text, "null")

    def test_mode_is_echoed_as_a_string(self):
        self.feed_mains()
        r = self.post("/settings?mode=3&override_current=100")
        self.assertEqual(r.json(), {"mode": "3", "override_current": 100})
        s = self.settings()
        self.assertEqual((s["mode"], s["mode_id"], s["evse"]["mode"]), ("SMART", 3, 1))
        self.assertEqual(s["settings"]["override_current"], 100)
        self.assertEqual(self.post("/settings?mode=0").json(), {"mode": "0"})
        self.assertEqual(self.settings()["mode"], "OFF")
        self.assertEqual(self.post("/settings?mode=4").json(), {"mode": "4"})
        s = self.settings()
        self.assertEqual((s["mode"], s["mode_id"], s["evse"]["access"]), ("PAUSE", 4, 2))
        self.post("/settings?mode=1")
        self.assertEqual(self.settings()["mode"], "NORMAL")

    def test_non_numeric_mode_is_off_like_the_firmware(self):
        self.assertEqual(self.post("/settings?mode=abc").json(), {"mode": "abc"})
        self.assertEqual(self.settings()["mode_id"], 0)
        self.post("/settings?mode=1")

    def test_invalid_mode_changes_nothing(self):
        self.assert_rejected_changes_nothing("/settings?mode=7", "mode", "Value not allowed!")

    def test_current_min(self):
        self.assertEqual(self.post("/settings?current_min=8").json(), {"current_min": 8})
        self.assertEqual(self.settings()["settings"]["current_min"], 8)
        self.assert_rejected_changes_nothing("/settings?current_min=20", "current_min", "Value not allowed!")
        self.post("/settings?current_min=6")

    def test_stop_timer_replies_a_boolean(self):
        self.assertEqual(self.post("/settings?stop_timer=12").json(), {"stop_timer": True})
        self.assertEqual(self.settings()["settings"]["solar_stop_time"], 12)
        self.assert_rejected_changes_nothing("/settings?stop_timer=99", "stop_timer", False)
        self.post("/settings?stop_timer=10")

    def test_enable_c2_nested_reply(self):
        self.assertEqual(self.post("/settings?enable_C2=1").json(), {"settings": {"enable_C2": "Always Off"}})
        self.assertEqual(self.settings()["settings"]["enable_C2"], "Always Off")
        time.sleep(1.2)  # the accepted change reaches the file first
        before_file = self.state_file()
        r = self.post("/settings?enable_C2=7")
        self.assertIn("not allowed", r.json()["settings"]["enable_C2"])
        self.assertEqual(self.settings()["settings"]["enable_C2"], "Always Off")
        time.sleep(1.2)
        self.assertEqual(self.state_file(), before_file)
        self.post("/settings?enable_C2=3")

    def test_capacity_settings(self):
        self.assertEqual(self.post("/settings?current_max_sum_mains=40").json(), {"current_max_sum_mains": 40})
        self.assertEqual(self.post("/settings?max_sum_mains_timer=5").json(), {"max_sum_mains_time": 5})
        s = self.settings()["settings"]
        self.assertEqual((s["current_max_sum_mains"], s["max_sum_mains_time"], s["capacity_mode"]), (40, 5, 1))
        self.assert_rejected_changes_nothing("/settings?current_max_sum_mains=5", "current_max_sum_mains",
                                             "Value not allowed!")
        self.assert_rejected_changes_nothing("/settings?max_sum_mains_timer=61", "max_sum_mains_time",
                                             "Value not allowed!")
        time.sleep(1.2)
        before, before_file = self.settings()["settings"], self.state_file()
        r = self.post("/settings?capacity_mode=9")
        self.assertIsInstance(r.json()["capacity_mode"], str)
        self.assertEqual(self.settings()["settings"], before)
        time.sleep(1.2)
        self.assertEqual(self.state_file(), before_file)
        self.assertEqual(self.post("/settings?capacity_mode=0").json(), {"capacity_mode": 0})
        self.assertEqual(self.settings()["settings"]["current_max_sum_mains"], 0)

    def test_intervals(self):
        intervals = json.dumps([{"start": 420, "power": 2400}, {"start": 1320, "power": 9300}, {"start": 5000, "power": 1}])
        from urllib.parse import quote

        r = self.post("/settings?capacity_mode=2&intervals=" + quote(intervals))
        self.assertEqual(r.json(), {"capacity_mode": 2})
        s = self.settings()["settings"]
        self.assertEqual(s["intervals"], [{"start": 420, "power": 2400}, {"start": 1320, "power": 9300}])
        self.assertGreater(s["current_max_sum_mains"], 0)
        r = self.post("/settings?intervals=" + quote("not json"))
        self.assertIn("intervals", r.json())
        self.assertEqual(len(self.settings()["settings"]["intervals"]), 2)
        self.post("/settings?capacity_mode=0&intervals=%5B%5D")

    def test_solar_parameters(self):
        r = self.post("/settings?solar_start_current=6&solar_max_import=3")
        self.assertEqual(r.json(), {"solar_start_current": 6, "solar_max_import": 3})
        self.assert_rejected_changes_nothing("/settings?solar_start_current=49", "solar_start_current",
                                             "Value not allowed!")
        self.assert_rejected_changes_nothing("/settings?solar_max_import=-1", "solar_max_import",
                                             "Value not allowed!")
        self.post("/settings?solar_start_current=4&solar_max_import=0")

    def test_override_current(self):
        self.post("/settings?mode=1")
        self.assertEqual(self.post("/settings?override_current=83.0").json(), {"override_current": 83})
        self.assertEqual(self.settings()["settings"]["override_current"], 83)
        self.assert_rejected_changes_nothing("/settings?override_current=30", "override_current",
                                             "Value not allowed!")
        self.assertEqual(self.post("/settings?disable_override_current").json(), {"disable_override_current": "OK"})
        self.assertEqual(self.settings()["settings"]["override_current"], 0)

    def test_override_current_in_solar_answers_with_a_reason(self):
        self.feed_mains()
        r = self.post("/settings?mode=2&override_current=100").json()
        self.assertEqual(r["mode"], "2")
        self.assertIn("Solar", r["override_current"])
        self.assertEqual(self.settings()["settings"]["override_current"], 0)
        self.post("/settings?mode=1")

    def test_panel_values(self):
        self.assertEqual(self.post("/settings?backlight=1").json(), {"Backlight": 1})
        self.assertEqual(self.settings()["backlight"]["status"], "ON")
        self.assertEqual(self.post("/settings?custombutton=1").json(), {"custombutton": True})
        self.assertTrue(self.settings()["evse"]["custombutton"])
        self.assertEqual(self.post("/settings?lcdlock=1&cablelock=1").json(), {"lcdlock": 1, "cablelock": 1})
        s = self.settings()["settings"]
        self.assertEqual((s["lcdlock"], s["cablelock"]), (1, 1))
        self.post("/settings?lcdlock=0&cablelock=0&custombutton=0&backlight=0")

    def test_ocpp_is_unsupported(self):
        r = self.post("/settings?ocpp_update=1&ocpp_mode=1").json()
        self.assertIn("not supported", r["ocpp_update"])
        self.assertEqual(self.settings()["ocpp"]["mode"], "Disabled")

    def test_processing_order_of_the_reply(self):
        self.feed_mains()
        r = self.post("/settings?solar_max_import=0&override_current=0&stop_timer=10&enable_C2=3&mode=1"
                      "&current_min=6&backlight=0")
        self.assertEqual(list(r.json()), ["Backlight", "current_min", "mode", "settings", "stop_timer",
                                          "override_current", "solar_max_import"])

    def test_parameters_from_a_form_body_and_case_insensitive_names(self):
        r = self.post("/settings", body="Stop_Timer=11",
                      headers={"Content-Type": "application/x-www-form-urlencoded"})
        self.assertEqual(r.json(), {"stop_timer": True})
        self.assertEqual(self.settings()["settings"]["solar_stop_time"], 11)
        # The query wins over the body; the first occurrence wins.
        r = self.post("/settings?stop_timer=12&stop_timer=13", body="stop_timer=14",
                      headers={"Content-Type": "application/x-www-form-urlencoded"})
        self.assertEqual(self.settings()["settings"]["solar_stop_time"], 12)
        # Home Assistant posts a JSON "{}" body, which is ignored.
        r = self.post("/settings?stop_timer=10", body="{}", headers={"Content-Type": "application/json"})
        self.assertEqual(r.json(), {"stop_timer": True})

    def test_smart_without_mains_meter_answers_with_a_reason(self):
        other = Evsed(config_text="[mains_meter]\ntype = \"Disabled\"\n")
        try:
            other.wait_ready()
            http = Http(other.port)
            r = http.post("/settings?mode=3").json()
            self.assertIn("mains meter", r["mode"])
            self.assertEqual(http.settings()["mode"], "NORMAL")
        finally:
            other.close()


class DelayedChargingTest(ApiCase):
    def test_start_stop_and_repeat(self):
        start = (datetime.now() + timedelta(hours=2)).replace(second=0, microsecond=0)
        stop = start + timedelta(hours=1)
        fmt = "%Y-%m-%dT%H:%M"
        r = self.post(f"/settings?mode=1&starttime={start.strftime(fmt)}&stoptime={stop.strftime(fmt)}&repeat=1").json()
        self.assertEqual(list(r), ["stoptime", "repeat", "starttime", "mode"])
        self.assertEqual(r["starttime"], int(start.timestamp()))
        self.assertEqual(r["stoptime"], int(stop.timestamp()))
        self.assertEqual(r["repeat"], 1)
        s = self.settings()
        self.assertEqual(s["settings"]["starttime"], int(start.timestamp()))
        self.assertEqual(s["mode"], "OFF")  # waiting for the start
        self.assertEqual(s["evsed"]["limited_by"], "schedule")
        # A mode without starttime cancels the start (not the stop).
        self.post("/settings?mode=1")
        s = self.settings()
        self.assertEqual(s["settings"]["starttime"], 0)
        self.assertEqual(s["settings"]["stoptime"], int(stop.timestamp()))
        self.assertEqual(s["mode"], "NORMAL")

    def test_quoted_start_time_as_the_rest_page_shows_it(self):
        start = (datetime.now() + timedelta(hours=3)).replace(second=0, microsecond=0)
        r = self.post('/settings?starttime=%22' + start.strftime("%Y-%m-%dT%H:%M") + '%22&mode=3').json()
        self.assertEqual(r["starttime"], int(start.timestamp()))
        self.post("/settings?mode=1")

    def test_past_start_time_charges_now_and_garbage_is_refused(self):
        past = (datetime.now() - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M")
        r = self.post(f"/settings?mode=1&starttime={past}").json()
        self.assertEqual(r["starttime"], 0)
        self.assertEqual(self.settings()["mode"], "NORMAL")
        # Issue 11 item 15: what is not a time is refused with the reason (the firmware charged at once).
        r = self.post("/settings?mode=1&starttime=tomorrow").json()
        self.assertEqual(r["mode"], "Value not allowed!")
        self.assertIn("tomorrow", r["starttime"])
        self.assertEqual(self.settings()["settings"]["starttime"], 0)


class FeedsTest(ApiCase):
    def test_currents(self):
        r = self.post("/currents?L1=100&L2=50&L3=-30").json()
        self.assertEqual(r, {"original": {"L1": 100, "L2": 50, "L3": -30}, "L1": 100, "L2": 50, "L3": -30, "TOTAL": 120})
        pc = self.settings()["phase_currents"]
        self.assertEqual((pc["L1"], pc["L2"], pc["L3"], pc["TOTAL"]), (100, 50, -30, 120))
        self.assertAlmostEqual(pc["last_data_update"], time.time(), delta=3)

    def test_currents_need_all_three_and_a_sane_range(self):
        self.feed_mains(11, 12, 13)
        self.assertIn("together", self.post("/currents?L1=100&L2=50").json()["TOTAL"])
        self.assertEqual(self.post("/currents?L1=100&L2=50&L3=99999").json()["TOTAL"], "Value not allowed!")
        pc = self.settings()["phase_currents"]
        self.assertEqual((pc["L1"], pc["L2"], pc["L3"]), (11, 12, 13))

    def test_home_battery_correction_in_solar(self):
        self.feed_mains()
        self.post("/settings?mode=2")
        r = self.post("/currents?battery_current=30&L1=100&L2=50&L3=-30").json()
        self.assertEqual(r, {"battery_current": 30, "original": {"L1": 100, "L2": 50, "L3": -30},
                             "L1": 90, "L2": 40, "L3": -40, "TOTAL": 90})
        hb = self.settings()["home_battery"]
        self.assertEqual(hb["current"], 30)
        self.assertAlmostEqual(hb["last_update"], time.time(), delta=3)
        self.assertEqual(self.post("/currents?battery_current=5000").json(), {"battery_current": "Value not allowed!"})
        self.assertEqual(self.settings()["home_battery"]["current"], 30)
        self.post("/settings?mode=1")

    def test_ev_meter(self):
        r = self.post("/ev_meter?L1=160&L2=161&L3=162").json()
        self.assertEqual(r, {"ev_meter": {"currents": {"L1": 160, "L2": 161, "L3": 162, "TOTAL": 483}}})
        r = self.post("/ev_meter?import_active_energy=123456&export_active_energy=6&import_active_power=11040").json()
        self.assertEqual(r["ev_meter"]["import_active_energy"], 123456)
        ev = self.settings()["ev_meter"]
        self.assertEqual(ev["currents"], {"TOTAL": 483, "L1": 160, "L2": 161, "L3": 162})
        self.assertEqual(ev["import_active_power"], 11040)
        self.assertEqual(ev["total_wh"], 123450)
        self.assertEqual(ev["import_active_energy"], 123456)
        self.assertEqual(ev["export_active_energy"], 6)
        self.assertAlmostEqual(ev["total_kwh"], 123.45)
        self.assertIn("together", json.dumps(self.post("/ev_meter?import_active_energy=5").json()))
        self.assertEqual(self.settings()["ev_meter"], ev)

    def test_colors_cablelock_rfid(self):
        self.assertEqual(self.post("/color_custom?R=1&G=2&B=3").json(), {"color": {"custom": {"R": 1, "G": 2, "B": 3}}})
        self.assertEqual(self.settings()["color"]["custom"], {"R": 1, "G": 2, "B": 3})
        self.assertIn("0..255", self.post("/color_custom?R=300&G=0&B=0").json()["color"])
        self.assertEqual(self.settings()["color"]["custom"], {"R": 1, "G": 2, "B": 3})
        self.assertEqual(self.post("/cablelock?1").json(), {"cablelock": 1})
        self.assertEqual(self.post("/cablelock").json(), {"cablelock": 0})
        self.assertEqual(self.post("/rfid?rfid=112233445566").json(), {"rfid_status": "RFID reader not enabled"})

    def test_power_day_has_96_slots(self):
        self.feed_mains(100, 100, 100)
        slots = self.http.get("/power_day").json()["power_day"]
        self.assertEqual(len(slots), 96)
        self.assertGreater(slots[-1]["power"], 0)  # the current slot is the newest
        self.assertRegex(slots[0]["time"], r"^\d\d:\d\d$")

    def test_modem_pwm_and_override_pwm(self):
        r = self.post("/modem?pwm=500").json()
        self.assertEqual(r, {"pwm": 500, "override_pwm": 512})
        self.assertEqual(self.settings()["evsed"]["pwm_override"], 512)
        self.assertEqual(self.post("/settings?override_pwm=-1").json()["override_pwm"], 1024)
        self.assertIsNone(self.settings()["evsed"]["pwm_override"])
        self.assertIn("not allowed", self.post("/settings?override_pwm=5000").json()["override_pwm"])
        self.assertIn("not allowed", self.post("/settings?override_pwm=-2").json()["override_pwm"])
        self.assertIsNone(self.settings()["evsed"]["pwm_override"])


class HttpTest(ApiCase):
    def test_unknown_path_and_wrong_method(self):
        self.assertEqual(self.http.get("/nothing").status, 404)
        r = self.http.get("/currents")
        self.assertEqual(r.status, 405)
        self.assertEqual(r.headers.get("Allow"), "POST")
        self.assertEqual(self.http.request("DELETE", "/settings").status, 405)

    def test_updates_and_lcd_are_explained(self):
        r = self.http.get("/update")
        self.assertEqual(r.status, 501)
        self.assertIn("apt", r.text)
        self.assertEqual(self.http.post("/autoupdate").status, 501)
        self.assertIn("LCD", self.http.get("/lcd").text)

    def test_no_simulator_control_without_simulate(self):
        real = Evsed(config_text=API_CONFIG, simulate=False)
        try:
            real.wait_ready()
            r = Http(real.port).get("/simulator")
            self.assertEqual(r.status, 404)
            self.assertIn("--simulate", r.text)
        finally:
            real.close()

    def raw(self, data, read=65536):
        with socket.create_connection(("127.0.0.1", self.evsed.port), timeout=5) as s:
            s.sendall(data)
            chunks = b""
            try:
                while True:
                    c = s.recv(read)
                    if not c:
                        break
                    chunks += c
            except socket.timeout:
                pass
            return chunks.decode(errors="replace")

    def test_malformed_request_gets_400_and_is_closed(self):
        reply = self.raw(b"GARBAGE\r\n\r\n")
        self.assertTrue(reply.startswith("HTTP/1.1 400"), reply)

    def test_header_too_large_gets_431(self):
        reply = self.raw(b"GET /settings HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: " + b"a" * 9000 + b"\r\n\r\n")
        self.assertTrue(reply.startswith("HTTP/1.1 431"), reply[:100])

    def test_body_too_large_gets_413(self):
        body = b"a" * (70 * 1024)
        reply = self.raw(b"POST /settings HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: " + str(len(body)).encode() +
                         b"\r\n\r\n" + body)
        self.assertTrue(reply.startswith("HTTP/1.1 413"), reply[:100])

    def test_keep_alive(self):
        import http.client

        c = http.client.HTTPConnection("127.0.0.1", self.evsed.port, timeout=5)
        try:
            c.connect()
            local = c.sock.getsockname()  # http.client reconnects silently: the port shows whether it had to
            for _ in range(20):
                r = self.http.get("/settings", conn=c)
                self.assertEqual(r.status, 200)
                headers = {k.lower(): v.lower() for k, v in r.headers.items()}
                self.assertNotEqual(headers.get("connection"), "close")
                self.assertEqual(c.sock.getsockname(), local, "one connection for every request")
            r = self.http.post("/settings?stop_timer=10", conn=c)
            self.assertEqual(r.json(), {"stop_timer": True})
            self.assertEqual(c.sock.getsockname(), local)
        finally:
            c.close()

    def test_ipv4_and_ipv6_listeners(self):
        from evsed_harness import free_port

        v6_port = free_port()
        both = Evsed("--listen", f"127.0.0.1:{free_port()},[::1]:{v6_port}")
        try:
            both.wait_ready()
            import http.client

            c = http.client.HTTPConnection("::1", v6_port, timeout=5)
            c.request("GET", "/settings")
            self.assertEqual(c.getresponse().status, 200)
            c.close()
        finally:
            both.close()

    def test_post_without_body_is_answered_at_once(self):
        start = time.monotonic()
        reply = self.raw(b"POST /settings?stop_timer=10 HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        self.assertIn('{"stop_timer":true}', reply)
        self.assertLess(time.monotonic() - start, 2)

    def test_200_parallel_connections(self):
        results = []
        lock = threading.Lock()

        def client():
            import http.client

            c = http.client.HTTPConnection("127.0.0.1", self.evsed.port, timeout=20)
            try:
                for _ in range(3):
                    c.request("GET", "/settings")
                    r = c.getresponse()
                    json.loads(r.read())
                    with lock:
                        results.append(r.status)
            finally:
                c.close()

        threads = [threading.Thread(target=client) for _ in range(200)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        self.assertEqual(results, [200] * 600)


class MqttSettingsTest(ApiCase):
    def test_mqtt_update_is_stored_and_shown(self):
        r = self.post("/settings?mqtt_update=1&mqtt_host=broker.local&mqtt_port=1884&mqtt_topic_prefix=evse1"
                      "&mqtt_username=u&mqtt_password=p&mqtt_tls=1&mode=0").json()
        self.assertEqual(r, {"mqtt_host": "broker.local", "mqtt_port": 1884, "mqtt_topic_prefix": "evse1",
                             "mqtt_username": "u", "mqtt_password_set": True, "mqtt_tls": True})
        m = self.settings()["mqtt"]
        self.assertEqual((m["host"], m["port"], m["topic_prefix"], m["username"], m["password_set"], m["tls"]),
                         ("broker.local", 1884, "evse1", "u", True, True))
        self.assertNotEqual(self.settings()["mode"], "OFF", "other parameters are not processed")
        saved = read_json(os.path.join(self.evsed.state_dir, "mqtt.json"))
        self.assertEqual(saved["host"], "broker.local")
        # Bad values change nothing, in memory or on disk.
        with open(os.path.join(self.evsed.state_dir, "mqtt.json")) as f:
            saved_text = f.read()
        for query, named in (("mqtt_topic_prefix=a%23b", "mqtt_topic_prefix"), ("mqtt_host=a%20b", "mqtt_host"),
                             ("mqtt_port=-5", "mqtt_port"), ("mqtt_username=x%01y", "mqtt_username"),
                             ("mqtt_ca_cert=hello", "mqtt_ca_cert"), ("mqtt_host=ok&mqtt_port=70000", "mqtt_port")):
            r = self.post("/settings?mqtt_update=1&" + query).json()
            self.assertIn(named, r["mqtt_update"], query)
            self.assertEqual(self.settings()["mqtt"]["host"], "broker.local", query)
            self.assertEqual(self.settings()["mqtt"]["topic_prefix"], "evse1", query)
            with open(os.path.join(self.evsed.state_dir, "mqtt.json")) as f:
                self.assertEqual(f.read(), saved_text, query)
        pem = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"
        from urllib.parse import quote
        r = self.post("/settings?mqtt_update=1&mqtt_ca_cert=" + quote(pem)).json()
        self.assertEqual(r, {"mqtt_ca_cert_set": True})
        self.assertEqual(self.post("/settings?mqtt_update=0&mqtt_host=x").text, "null")
        r = self.post("/settings?mqtt_update=1&mqtt_topic_prefix=").json()
        self.assertEqual(r["mqtt_topic_prefix"], "SmartEVSE-12345")


class PersistenceTest(unittest.TestCase):
    def test_settings_survive_a_restart(self):
        first = Evsed(config_text=API_CONFIG)
        try:
            first.wait_ready()
            http = Http(first.port)
            http.post("/currents?L1=10&L2=10&L3=10")
            http.post("/settings?mode=3&stop_timer=7&solar_start_current=9&enable_C2=1&current_min=7")
            http.post("/settings?mqtt_update=1&mqtt_host=h1")
            http.post("/settings?override_current=80")  # volatile
            self.assertEqual(first.stop()[0], 0)
            state_dir = first.state_dir
            second = Evsed(config_text=API_CONFIG, state_dir=state_dir)
            try:
                second.wait_ready()
                s = Http(second.port).settings()
                self.assertEqual(s["mode"], "SMART")
                self.assertEqual(s["settings"]["solar_stop_time"], 7)
                self.assertEqual(s["settings"]["solar_start_current"], 9)
                self.assertEqual(s["settings"]["enable_C2"], "Always Off")
                self.assertEqual(s["settings"]["current_min"], 7)
                self.assertEqual(s["settings"]["override_current"], 0)
                self.assertEqual(s["mqtt"]["host"], "h1")
            finally:
                second.close()
        finally:
            first.close()

    def test_erasesettings_restores_defaults(self):
        evsed = Evsed(config_text=API_CONFIG)
        try:
            evsed.wait_ready()
            http = Http(evsed.port)
            http.post("/settings?stop_timer=7")
            time.sleep(1.2)
            self.assertEqual(http.get("/erasesettings").status, 405, "POST only (issue 11 item 3)")
            r = http.post("/erasesettings")
            self.assertEqual((r.status, r.text), (200, "Erasing settings, rebooting"))
            self.assertEqual(evsed.wait_exit(timeout=15), 75)
            self.assertTrue(any("safe state" in line for line in evsed.log))
            self.assertFalse(os.path.exists(evsed.settings_path))
            again = Evsed(config_text=API_CONFIG, state_dir=evsed.state_dir)
            try:
                again.wait_ready()
                self.assertEqual(Http(again.port).settings()["settings"]["solar_stop_time"], 10)
            finally:
                again.close()
        finally:
            evsed.close()


class EvccTest(unittest.TestCase):
    """evcc's smart-evse charger (interfaces.md §6.1) against a simulated car."""

    def test_evcc_sequence(self):
        evsed = Evsed()  # simulated board, car and site
        try:
            evsed.wait_ready()
            http = Http(evsed.port)

            def status():
                s = http.settings()
                if not s["car_connected"]:
                    return "A"
                return "C" if s["evse"]["state_id"] in (2, 3, 6, 7, 10) else "B"

            def enabled():
                s = http.settings()
                return not (s["evse"]["state_id"] in (9, 10) or s["mode_id"] in (0, 4))

            s = http.settings()
            self.assertNotIn(s["settings"]["enable_C2"], ("", "Not present"))  # evcc offers 1p3p
            self.assertEqual(status(), "A")
            http.post("/simulator?ev=B")
            self.assertTrue(wait_until(lambda: status() == "B"))
            self.assertTrue(enabled())
            # Enable(false) -> PAUSE, Enable(true) -> NORMAL
            self.assertEqual(http.post("/settings?mode=4").status, 200)
            self.assertFalse(enabled())
            self.assertEqual(http.post("/settings?mode=1").status, 200)
            self.assertTrue(wait_until(enabled, 10))
            http.post("/simulator?ev=C")
            self.assertTrue(wait_until(lambda: status() == "C", 15))
            # MaxCurrent(10) -> override_current=100
            self.assertEqual(http.post("/settings?override_current=100").status, 200)
            self.assertTrue(wait_until(lambda: http.settings()["evse"]["pwm"] == 169, 10))
            self.assertEqual(http.settings()["evse"]["nrofphases"], 3)
            # Phases1p3p(1): disable, enable_C2=1, enable
            http.post("/settings?mode=4")
            self.assertTrue(wait_until(lambda: http.settings()["evse"]["state_id"] == 9, 10))
            self.assertEqual(http.post("/settings?enable_C2=1").json(), {"settings": {"enable_C2": "Always Off"}})
            http.post("/settings?mode=1")
            self.assertTrue(wait_until(lambda: status() == "C" and http.settings()["evse"]["nrofphases"] == 1, 40))
            sim = http.get("/simulator").json()
            self.assertTrue(sim["contactor1"])
            self.assertFalse(sim["contactor2"])
            self.assertTrue(wait_until(lambda: http.get("/simulator").json()["ev_draw"]["L1"] > 0, 15))
            self.assertEqual(http.get("/simulator").json()["ev_draw"]["L2"], 0)
            # Phases1p3p(3)
            http.post("/settings?mode=4")
            self.assertTrue(wait_until(lambda: http.settings()["evse"]["state_id"] == 9, 10))
            http.post("/settings?enable_C2=3")
            http.post("/settings?mode=1")
            self.assertTrue(wait_until(lambda: status() == "C" and http.settings()["evse"]["nrofphases"] == 3, 40))
            http.post("/simulator?ev=A")
            self.assertTrue(wait_until(lambda: status() == "A", 5))
        finally:
            evsed.close()


class HomeAssistantTest(ApiCase):
    """The deprecated HA custom component's writes (interfaces.md §6.2): form posts with an empty dict."""

    def ha_post(self, query):
        r = self.post(query, body="", headers={"Content-Type": "application/x-www-form-urlencoded"})
        self.assertEqual(r.status, 200, r)
        return r

    def test_ha_writes(self):
        self.feed_mains()
        for mode, name in ((0, "OFF"), (1, "NORMAL"), (2, "SOLAR"), (3, "SMART"), (4, "PAUSE"), (1, "NORMAL")):
            self.ha_post(f"/settings?mode={mode}")
            self.feed_mains()
            self.assertEqual(self.settings()["mode"], name)
        self.ha_post("/settings?override_current=83.0")
        self.assertEqual(self.settings()["settings"]["override_current"], 83)
        self.ha_post("/settings?enable_C2=4")
        self.assertEqual(self.settings()["settings"]["enable_C2"], "Auto")
        self.ha_post("/settings?stop_timer=15")
        self.ha_post("/settings?solar_start_current=5")
        self.ha_post("/settings?solar_max_import=2")
        s = self.settings()["settings"]
        self.assertEqual((s["solar_stop_time"], s["solar_start_current"], s["solar_max_import"]), (15, 5, 2))
        self.ha_post("/settings?enable_C2=3&stop_timer=10&solar_start_current=4&solar_max_import=0")


class SimulatedSessionTest(unittest.TestCase):
    def test_full_session_through_the_simulator(self):
        evsed = Evsed()
        try:
            evsed.wait_ready()
            http = Http(evsed.port)
            sim = http.post("/simulator?ev=C&house_L1=50&house_L2=50&house_L3=50&solar=0").json()
            self.assertEqual(sim["ev"], "C")
            self.assertTrue(wait_until(lambda: http.settings()["evse"]["state_id"] == 2, 10))
            self.assertTrue(wait_until(lambda: http.get("/simulator").json()["ev_draw"]["L1"] == 160, 15))
            # SMART with the simulated site meter; the house takes 15 A: the car is cut to 10 A or less.
            self.assertEqual(http.post("/settings?mode=3").json(), {"mode": "3"})
            http.post("/simulator?house_L1=150&house_L2=150&house_L3=150")
            self.assertTrue(wait_until(lambda: http.settings()["settings"]["charge_current"] <= 100, 6))
            s = http.settings()
            self.assertEqual(s["evsed"]["limited_by"], "max_mains")
            self.assertTrue(wait_until(lambda: max(http.get("/simulator").json()["grid"].values()) <= 250, 8))
            http.post("/simulator?ev=A")
            self.assertTrue(wait_until(lambda: http.settings()["evse"]["state_id"] == 0, 5))
            sim = http.get("/simulator").json()
            self.assertFalse(sim["contactor1"])
            self.assertFalse(sim["contactor2"])
        finally:
            evsed.close()

    def test_simulator_rejects_bad_values_and_changes_nothing(self):
        evsed = Evsed()
        try:
            evsed.wait_ready()
            http = Http(evsed.port)
            before = http.get("/simulator").json()
            for query, param in (("ev=D", "ev"), ("diode=2", "diode"), ("phases=2", "phases"),
                                 ("house_L1=-5", "house_l1"), ("solar=abc", "solar"), ("temp=500", "temp"),
                                 ("ev=C&rcm=7", "rcm"), ("bogus=1", "bogus")):
                r = http.post("/simulator?" + query)
                self.assertEqual(r.status, 400, query)
                self.assertEqual(r.json()["parameter"], param)
                self.assertEqual(http.get("/simulator").json()["ev"], before["ev"], query)
            r = http.post("/simulator?temp=70&rcm=0&diode=1&phases=1&ev_max=10&cable=32")
            self.assertEqual(r.status, 200)
            self.assertEqual((r.json()["temp"], r.json()["phases"], r.json()["ev_max"]), (70, 1, 10))
            self.assertTrue(wait_until(lambda: http.settings()["evse"]["error"] == "Temperature High", 5))
        finally:
            evsed.close()

    def test_access_button_and_jammed_lock_through_the_simulator(self):
        evsed = Evsed(config_text='[evse]\nconfig = "Socket"\nlock = "Solenoid"\nswitch = "Access B"\n')
        try:
            evsed.wait_ready()
            http = Http(evsed.port)
            self.assertTrue(wait_until(lambda: http.settings()["evsed"]["switch"]["closed"] is False, 5))
            self.assertEqual(http.settings()["evsed"]["switch"]["function"], "Access B")
            # The lock is told to lock but never gets there: no contactor.
            http.post("/simulator?ev=C&cable=32&lock_jammed=1")
            self.assertTrue(wait_until(lambda: http.settings()["evsed"]["limited_by"] == "lock", 10))
            time.sleep(1.5)
            s = http.settings()
            self.assertEqual(s["evse"]["state_id"], 1)
            self.assertTrue(s["evsed"]["locked"])
            self.assertIs(s["evsed"]["lock_feedback"], False)
            self.assertFalse(http.get("/simulator").json()["contactor1"])
            http.post("/simulator?lock_jammed=0")
            self.assertTrue(wait_until(lambda: http.settings()["evse"]["state_id"] == 2, 10))
            # A press of the access button stops the session and turns access off.
            http.post("/simulator?switch=1")
            self.assertTrue(wait_until(lambda: http.settings()["evse"]["access"] == 0, 5))
            http.post("/simulator?switch=0")
            self.assertTrue(wait_until(lambda: not http.get("/simulator").json()["contactor1"], 10))
            self.assertEqual(http.post("/simulator?switch=2").status, 400)
            http.post("/simulator?switch=1")
            self.assertTrue(wait_until(lambda: http.settings()["evse"]["access"] == 1, 5))
        finally:
            evsed.close()

    def test_reboot_while_charging_waits_for_the_car(self):
        evsed = Evsed()
        try:
            evsed.wait_ready()
            http = Http(evsed.port)
            http.post("/simulator?ev=C")
            self.assertTrue(wait_until(lambda: http.settings()["evse"]["state_id"] == 2, 10))
            r = http.post("/reboot")
            self.assertEqual(r.status, 202)
            self.assertIn("after the EV stops charging", r.text)
            time.sleep(6)
            self.assertIsNone(evsed.proc.poll(), "still running while charging")
            http.post("/simulator?ev=B")
            self.assertEqual(evsed.wait_exit(timeout=15), 75)
            self.assertTrue(any("safe state" in line for line in evsed.log))
        finally:
            evsed.close()

    def test_reboot_when_idle(self):
        evsed = Evsed()
        try:
            evsed.wait_ready()
            self.assertEqual(Http(evsed.port).get("/reboot").status, 405, "POST only (issue 11 item 3)")
            r = Http(evsed.port).post("/reboot")
            self.assertEqual((r.status, r.text), (200, "Device will reboot in 5 seconds..."))
            self.assertEqual(evsed.wait_exit(timeout=15), 75)
        finally:
            evsed.close()


if __name__ == "__main__":
    unittest.main()
