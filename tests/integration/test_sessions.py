"""The session log over the real binary: simulated sessions with the simulated
car's own energy count, CSV in both spreadsheet dialects read by Python's csv
module, kill -9 mid-session, a corrupt database, bad filters, and /metrics read
by Prometheus's own parser and checked by promtool."""

import csv
import glob
import io
import os
import signal
import subprocess
import time
import unittest

from evsed_harness import Evsed, Http, wait_until

EV_METER_CONFIG = """
[evse]
current_max = 32
[ev_meter]
type = "Sim"
[sessions]
update_interval = 5
"""


def header(reply, name):
    return {k.lower(): v for k, v in reply.headers.items()}[name]


def sim(http):
    return http.get("/simulator").json()


def sessions(http, query=""):
    r = http.get("/sessions" + query)
    assert r.status == 200, r
    return r.json()["sessions"]


class Charging:
    """Drives the simulated car through one session."""

    def __init__(self, test, http):
        self.t, self.http = test, http

    def plug_and_charge(self):
        self.start_wh = sim(self.http)["ev_energy_wh"]
        self.http.post("/simulator?ev=C&ev_max=32")
        self.t.assertTrue(wait_until(lambda: sim(self.http)["ev_draw"]["L1"] > 0, 20), "the car never drew")

    def charge_until(self, wh):
        self.t.assertTrue(wait_until(lambda: sim(self.http)["ev_energy_wh"] - self.start_wh >= wh, 60),
                          f"{wh} Wh not reached")

    def car_stops(self):
        """The car stops by itself (full), the contactor opens, a last reading comes."""
        self.http.post("/simulator?ev=B")
        self.t.assertTrue(wait_until(lambda: not sim(self.http)["contactor1"], 15))
        time.sleep(2.5)  # one more EV meter reading: its register has the last Wh

    def unplug(self):
        self.http.post("/simulator?ev=A")
        self.t.assertTrue(wait_until(lambda: self.http.settings()["evse"]["state_id"] == 0, 10))
        return sim(self.http)["ev_energy_wh"] - self.start_wh


class SessionLogTest(unittest.TestCase):
    def test_two_sessions_match_what_the_car_counted(self):
        with Evsed(config_text=EV_METER_CONFIG) as evsed:
            evsed.wait_ready()
            http = Http(evsed.port)
            self.assertEqual(sessions(http), [])
            self.assertEqual(http.get("/sessions/current").status, 404)

            first = Charging(self, http)
            first.plug_and_charge()
            current = http.get("/sessions/current")
            self.assertEqual(current.status, 200)
            self.assertTrue(current.json()["open"])
            first.charge_until(100)
            first.car_stops()
            first_wh = first.unplug()

            second = Charging(self, http)
            second.plug_and_charge()
            second.charge_until(80)
            self.assertEqual(http.post("/settings?mode=0").status, 200)  # access off
            self.assertTrue(wait_until(lambda: not sim(http)["contactor1"], 15))
            time.sleep(2.5)
            second_wh = second.unplug()
            self.assertEqual(http.post("/settings?mode=1").status, 200)

            self.assertTrue(wait_until(lambda: len(sessions(http)) == 2 and not sessions(http)[0]["open"], 5))
            got = sessions(http)
            self.assertEqual([s["id"] for s in got], [2, 1], "newest first")
            for s, wh, reason in ((got[1], first_wh, "car_stopped"), (got[0], second_wh, "access_off")):
                self.assertEqual(s["energy_source"], "ev_meter", s)
                self.assertLessEqual(abs(s["energy_wh"] - wh), max(1, wh * 0.01), (s, wh))
                self.assertEqual(s["stop_reason"], reason)
                self.assertEqual(s["meter_end_wh"] - s["meter_start_wh"], s["energy_wh"])
                self.assertGreater(s["charging_s"], 0)
                self.assertGreaterEqual(s["connected_s"], s["charging_s"])
                self.assertEqual(s["phases"], 3)
                self.assertEqual(s["modes"], ["normal"])
                self.assertIsNotNone(s["end"])
                self.assertGreater(s["max_current_a"], 6)
            self.assertEqual(http.get("/sessions/1").json(), got[1])
            self.assertEqual(http.get("/sessions/current").status, 404)

            # The month's totals are the two sessions.
            month = time.strftime("%Y-%m")
            summary = http.get("/sessions/summary?by=month").json()
            self.assertEqual(summary["by"], "month")
            row = [p for p in summary["periods"] if p["month"] == month][0]
            self.assertEqual(row["sessions"], 2)
            self.assertEqual(row["energy_wh"], got[0]["energy_wh"] + got[1]["energy_wh"])
            year = http.get("/sessions/summary?by=year").json()["periods"]
            self.assertEqual(year[0]["year"], time.strftime("%Y"))

            # CSV, the way a spreadsheet reads it.
            plain = http.get("/sessions.csv")
            self.assertEqual(plain.status, 200)
            self.assertTrue(header(plain, "content-type").startswith("text/csv"))
            self.assertIn("attachment", header(plain, "content-disposition"))
            rows = list(csv.DictReader(io.StringIO(plain.text, newline="")))
            self.assertEqual([int(r["id"]) for r in rows], [2, 1])
            european = http.get("/sessions.csv?delimiter=%3B&decimal=comma")
            erows = list(csv.DictReader(io.StringIO(european.text, newline=""), delimiter=";"))
            self.assertEqual(len(erows), 2)
            for r, e, s in zip(rows, erows, got):
                self.assertEqual(float(r["energy_kwh"]), s["energy_wh"] / 1000)
                self.assertEqual(r["energy_kwh"], f"{s['energy_wh'] / 1000:.3f}")
                self.assertEqual(e["energy_kwh"], r["energy_kwh"].replace(".", ","))
                self.assertEqual(float(e["energy_kwh"].replace(",", ".")), s["energy_wh"] / 1000)
                self.assertEqual(r["start"], s["start"])
                self.assertRegex(r["start"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d$")
                self.assertEqual(r["stop_reason"], s["stop_reason"])
                self.assertEqual(e["stop_reason"], s["stop_reason"])
            # Filtered to a day with nothing in it: the header row alone.
            empty = http.get("/sessions.csv?from=2001-01-01&to=2001-01-31").text
            self.assertEqual(len(list(csv.reader(io.StringIO(empty, newline="")))), 1)

            # A note, with what a spreadsheet would run as a formula.
            r = http.post("/sessions/1?note=%3DHYPERLINK(%22x%22)%20company%20car")
            self.assertEqual(r.status, 200, r)
            self.assertEqual(r.json()["note"], '=HYPERLINK("x") company car')
            rows = list(csv.DictReader(io.StringIO(http.get("/sessions.csv").text, newline="")))
            self.assertEqual(rows[1]["note"], "'=HYPERLINK(\"x\") company car")

            # The totals survive in /metrics.
            metrics = http.get("/metrics").text
            self.assertIn("evsed_sessions_total 2\n", metrics)
            joules = (got[0]["energy_wh"] + got[1]["energy_wh"]) * 3600
            self.assertIn(f"evsed_charged_energy_joules_total {joules}\n", metrics)

    def test_without_an_ev_meter_the_energy_is_estimated(self):
        with Evsed() as evsed:
            evsed.wait_ready()
            http = Http(evsed.port)
            c = Charging(self, http)
            c.plug_and_charge()
            c.charge_until(40)
            c.car_stops()
            counted = c.unplug()
            self.assertTrue(wait_until(lambda: sessions(http) and not sessions(http)[0]["open"], 5))
            s = sessions(http)[0]
            self.assertEqual(s["energy_source"], "estimated")
            self.assertIsNone(s["meter_start_wh"])
            # Offered 16 A on 3 phases from the contactor closing: the car's start
            # and stop delays (2 s + 1 s) are counted too, nothing else.
            offered_w = 16 * 3 * 230
            self.assertGreaterEqual(s["energy_wh"], counted - 1)
            self.assertLessEqual(s["energy_wh"], counted + offered_w * 4 / 3600 + 1, s)

    def test_kill_9_mid_session_closes_it_as_interrupted_and_a_new_one_follows(self):
        config = EV_METER_CONFIG + '[simulator]\ncar = "charging"\n'
        first = Evsed(config_text=config)
        try:
            first.wait_ready()
            http = Http(first.port)
            self.assertTrue(wait_until(lambda: sim(http)["ev_energy_wh"] >= 60, 60))
            time.sleep(1)
            counted = sim(http)["ev_energy_wh"]
            power_w = sum(sim(http)["ev_draw"].values()) / 10 * 230
            first.proc.send_signal(signal.SIGKILL)
            first.proc.wait(5)
            state_dir = first.state_dir
            with Evsed(config_text=config, state_dir=state_dir) as second:
                second.wait_ready()
                self.assertTrue(second.wait_log("closed as interrupted", 5), "\n".join(second.log))
                http2 = Http(second.port)
                self.assertTrue(wait_until(lambda: len(sessions(http2)) == 2, 10))
                new, old = sessions(http2)
                self.assertEqual(old["id"], 1)
                self.assertEqual(old["stop_reason"], "interrupted")
                self.assertFalse(old["open"])
                # Within what one update interval (5 s) and one meter reading (2 s) can hold.
                lost_at_most = power_w * 7 / 3600 + 1
                self.assertLessEqual(old["energy_wh"], counted + 1)
                self.assertGreaterEqual(old["energy_wh"], counted - lost_at_most, (old, counted, power_w))
                self.assertEqual(new["id"], 2)
                self.assertTrue(new["open"], "the car is still plugged in: a new session")
                self.assertEqual(http2.get("/sessions/current").json()["id"], 2)
                # SIGTERM ends the running one as shutdown.
                rc, _ = second.stop()
                self.assertEqual(rc, 0)
            with Evsed(config_text=EV_METER_CONFIG, state_dir=state_dir) as third:
                third.wait_ready()
                http3 = Http(third.port)
                self.assertEqual(sessions(http3)[0]["stop_reason"], "shutdown")
                self.assertFalse(third.wait_log("closed as interrupted", 1))
        finally:
            first.close()

    def test_a_corrupt_database_is_moved_aside_and_charging_goes_on(self):
        with Evsed(config_text=EV_METER_CONFIG) as evsed:
            pass
        tmp_state = None
        evsed = None
        try:
            import tempfile
            tmp = tempfile.TemporaryDirectory(prefix="evsed-corrupt-")
            tmp_state = tmp.name
            with open(os.path.join(tmp_state, "sessions.db"), "wb") as f:
                f.write(b"SQLite format 3\0" + os.urandom(8192))
            evsed = Evsed(config_text=EV_METER_CONFIG, state_dir=tmp_state)
            evsed.wait_ready()
            self.assertTrue(evsed.wait_log("was unreadable", 5), "\n".join(evsed.log))
            line = [l for l in evsed.log if "was unreadable" in l][0]
            self.assertIn("error", line)
            aside = glob.glob(os.path.join(tmp_state, "sessions.db.corrupt-*"))
            self.assertEqual(len(aside), 1, os.listdir(tmp_state))
            self.assertIn(os.path.basename(aside[0]), line)
            http = Http(evsed.port)
            c = Charging(self, http)
            c.plug_and_charge()
            self.assertEqual(http.settings()["evse"]["state_id"], 2)
            self.assertTrue(wait_until(lambda: http.get("/sessions/current").status == 200, 5))
            self.assertEqual(len(sessions(http)), 1)
        finally:
            if evsed:
                evsed.close()
            tmp.cleanup()

    def test_bad_filters_and_notes_are_refused_and_change_nothing(self):
        with Evsed(config_text=EV_METER_CONFIG) as evsed:
            evsed.wait_ready()
            http = Http(evsed.port)
            c = Charging(self, http)
            c.plug_and_charge()
            c.car_stops()
            c.unplug()
            self.assertTrue(wait_until(lambda: sessions(http) and not sessions(http)[0]["open"], 5))
            self.assertEqual(http.post("/sessions/1?note=before").status, 200)
            before = (http.get("/sessions").text, http.get("/sessions.csv").text, http.get("/sessions/summary").text)
            huge = "9" * 400
            bad = [
                ("GET", "/sessions?from=2026-02-30"), ("GET", "/sessions?from=yesterday"),
                ("GET", "/sessions?to=2026-11-01%27%20OR%20%271%27=%271"),
                ("GET", "/sessions?from=2026-11-01;DROP%20TABLE%20sessions"),
                ("GET", "/sessions?limit=-1"), ("GET", "/sessions?limit=0"), ("GET", f"/sessions?limit={huge}"),
                ("GET", "/sessions?limit=1%20OR%201=1"), ("GET", "/sessions?offset=-5"),
                ("GET", f"/sessions?offset={huge}"), ("GET", "/sessions?order=id%20DESC"),
                ("GET", "/sessions?limit=5&limit=6"), ("GET", "/sessions?from=2026-12-01&to=2026-11-01"),
                ("GET", "/sessions.csv?delimiter=%7C"), ("GET", "/sessions.csv?decimal=comma&delimiter=,"),
                ("GET", "/sessions.csv?decimal=%27;--"), ("GET", "/sessions/summary?by=day"),
                ("GET", "/sessions/summary?by=month%27%20UNION%20SELECT%201"),
                ("POST", "/sessions/1?note=" + "x" * 1001), ("POST", "/sessions/1?note=a%00b"),
                ("POST", "/sessions/1?note=%FF%FE"), ("POST", "/sessions/1?note=line%0Abreak"),
                ("POST", "/sessions/1?note=a&note=b"), ("POST", "/sessions/1?title=x"), ("POST", "/sessions/1"),
            ]
            for method, path in bad:
                r = http.request(method, path)
                self.assertEqual(r.status, 400, (method, path, r))
                self.assertIn("error", r.json(), path)
                self.assertTrue(r.json()["error"], path)
            self.assertEqual(http.get("/sessions/1%27%20OR%201=1").status, 404)
            self.assertEqual(http.post("/sessions/99?note=x").status, 404)
            self.assertEqual(http.get("/sessions/99").status, 404)
            self.assertEqual(http.request("DELETE", "/sessions/1").status, 405)
            self.assertEqual(http.request("POST", "/sessions.csv").status, 405)
            after = (http.get("/sessions").text, http.get("/sessions.csv").text, http.get("/sessions/summary").text)
            self.assertEqual(before, after)
            # SQL in a note is text, kept as it was given.
            r = http.post("/sessions/1?note=%27);%20DROP%20TABLE%20sessions;--")
            self.assertEqual(r.json()["note"], "'); DROP TABLE sessions;--")
            self.assertEqual(len(sessions(http)), 1)

    def test_the_note_survives_a_restart(self):
        config = EV_METER_CONFIG
        with Evsed(config_text=config) as evsed:
            evsed.wait_ready()
            http = Http(evsed.port)
            c = Charging(self, http)
            c.plug_and_charge()
            self.assertEqual(http.post("/sessions/1?note=running%20note").status, 200)
            c.unplug()
            self.assertTrue(wait_until(lambda: not sessions(http)[0]["open"], 5))
            state = evsed.state_dir
            evsed.proc.send_signal(signal.SIGKILL)
            evsed.proc.wait(5)
            with Evsed(config_text=config, state_dir=state) as again:
                again.wait_ready()
                s = sessions(Http(again.port))[0]
                self.assertEqual(s["note"], "running note")
                self.assertEqual(s["stop_reason"], "unplugged")


class MetricsTest(unittest.TestCase):
    def test_metrics_parse_and_pass_promtool(self):
        from prometheus_client.parser import text_string_to_metric_families

        with Evsed(config_text=EV_METER_CONFIG) as evsed:
            evsed.wait_ready()
            http = Http(evsed.port)
            c = Charging(self, http)
            c.plug_and_charge()
            self.assertTrue(wait_until(lambda: http.get("/sessions/current").json()["energy_wh"] > 0, 10))
            r = http.get("/metrics")
            self.assertEqual(r.status, 200)
            self.assertEqual(header(r, "content-type"), "text/plain; version=0.0.4; charset=utf-8")
            families = {f.name: f for f in text_string_to_metric_families(r.text)}
            samples = {}
            for f in families.values():
                for s in f.samples:
                    samples[(s.name, tuple(sorted(s.labels.items())))] = s.value
            self.assertEqual(families["evsed_sessions"].type, "counter")
            self.assertEqual(samples[("evsed_sessions_total", ())], 1)
            self.assertEqual(samples[("evsed_pilot_state", (("state", "C"),))], 1)
            self.assertEqual(samples[("evsed_pilot_state", (("state", "A"),))], 0)
            self.assertEqual(samples[("evsed_mode", (("mode", "Normal"),))], 1)
            self.assertEqual(samples[("evsed_car_connected", ())], 1)
            self.assertGreaterEqual(samples[("evsed_charge_current_offered_amperes", ())], 6)
            self.assertGreater(samples[("evsed_ev_power_watts", ())], 1000)
            self.assertGreater(samples[("evsed_session_energy_joules", ())], 0)
            self.assertGreater(samples[("evsed_meter_current_amperes", (("meter", "ev"), ("phase", "L1")))], 0)
            self.assertIn(("evsed_meter_current_amperes", (("meter", "mains"), ("phase", "L3"))), samples)
            self.assertEqual(samples[("evsed_error", (("flag", "temp_high"),))], 0)
            self.assertEqual(families["evsed_ev_energy_import_joules"].type, "counter")
            self.assertGreater(samples[("evsed_ev_energy_import_joules_total", ())], 0)
            self.assertIn(("evsed_http_connections", ()), samples)
            self.assertEqual(samples[("evsed_build_info", (("version", evsed_version(http)),))], 1)
            self.assertLessEqual(abs(samples[("evsed_start_time_seconds", ())] - time.time()), 120)

            lint = subprocess.run(["promtool", "check", "metrics"], input=r.text, capture_output=True, text=True)
            self.assertEqual(lint.returncode, 0, lint.stdout + lint.stderr)
            self.assertEqual((lint.stdout + lint.stderr).strip(), "", "promtool has remarks")

    def test_metrics_take_no_writes(self):
        with Evsed() as evsed:
            evsed.wait_ready()
            http = Http(evsed.port)
            self.assertEqual(http.post("/metrics").status, 405)


def evsed_version(http):
    return http.settings()["version"]


if __name__ == "__main__":
    unittest.main()
