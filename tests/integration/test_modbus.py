"""Modbus-RTU meters: evsed polls evsed-meter-sim over a socat pty pair (real libmodbus traffic)."""

import os
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from evsed_harness import Evsed, Http, MeterSim, PtyBus, wait_until  # noqa: E402

POLL_S = 0.5


def config(bus, ev_type="Phoenix C"):
    return f"""
[mains_meter]
type = "Eastron3P"
address = 10
timeout = 3
[ev_meter]
type = "{ev_type}"
address = 12
timeout = 4
[modbus]
port = "{bus.evse}"
poll_interval_ms = {int(POLL_S * 1000)}
response_timeout_ms = 100
turnaround_ms = 5
"""


class ModbusCase(unittest.TestCase):
    ev_type = "Phoenix C"

    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory(prefix="evsed-modbus-")
        self.bus = PtyBus(self.tmp.name)
        # "slow" answers 150 ms late: after evsed's 100 ms response timeout.
        self.meters = MeterSim(self.bus.meter, "Eastron3P@10", f"{self.ev_type}@12", extra=("--slow-ms", "150"))
        self.evsed = Evsed(config_text=config(self.bus, self.ev_type))
        self.evsed.wait_ready()
        self.http = Http(self.evsed.port)

    def tearDown(self):
        self.evsed.close()
        self.meters.close()
        self.bus.close()
        self.tmp.cleanup()

    def settings(self):
        return self.http.settings()

    def mains(self):
        pc = self.settings()["phase_currents"]
        return pc["L1"], pc["L2"], pc["L3"]

    def error(self):
        return self.settings()["evse"]["error"]


class PollingTest(ModbusCase):
    def test_served_values_show_within_one_poll_period(self):
        self.meters.command("set 10 currents 12.5 -3 0.5")
        self.meters.command("set 10 energy 1234.5 67.8")
        self.meters.command("set 12 currents 16 15.5 16.2")
        self.meters.command("set 12 energy 4321 0")
        start = time.monotonic()
        self.assertTrue(wait_until(lambda: self.mains() == (125, -30, 5), 3 * POLL_S + 1), self.mains())
        self.assertLess(time.monotonic() - start, POLL_S + 1.0)
        ev = wait_until(lambda: (e := self.settings()["ev_meter"])["currents"]["L1"] == 160 and e, 3)
        self.assertEqual(ev["currents"], {"TOTAL": 477, "L1": 160, "L2": 155, "L3": 162})
        self.assertEqual(ev["import_active_energy"], 4_321_000)
        self.assertEqual(ev["import_active_power"], round((16 + 15.5 + 16.2) * 230))
        self.assertEqual(ev["description"], self.ev_type)
        meters = self.settings()["evsed"]["meters"]
        self.assertEqual(meters["mains"]["type"], "Eastron3P")
        self.assertGreater(meters["mains"]["good"], 0)
        self.assertEqual(meters["mains"]["last_error"], "")
        self.assertLessEqual(meters["mains"]["age_s"], 1)

    def test_mains_energy_is_read(self):
        self.meters.command("set 10 energy 1234.5 0")
        # The first cycle reads the import energy; evsed restarts to read it at once.
        self.evsed.stop()
        self.evsed = Evsed(config_text=config(self.bus, self.ev_type))
        self.evsed.wait_ready()
        self.http = Http(self.evsed.port)
        mm = wait_until(lambda: self.settings().get("mains_meter"), 3)
        self.assertEqual(mm["import_active_energy"], 1_234_500)


class AbbEvMeterTest(PollingTest):
    ev_type = "ABB"


class SmartModeTest(ModbusCase):
    def test_smart_regulates_on_the_modbus_mains_meter(self):
        self.meters.command("set 10 currents 5 5 5")
        self.assertTrue(wait_until(lambda: self.mains() == (50, 50, 50), 3))
        self.assertEqual(self.http.post("/settings?mode=3").json(), {"mode": "3"})
        self.http.post("/simulator?ev=C")
        self.assertTrue(wait_until(lambda: self.settings()["evse"]["state_id"] == 2, 10))
        self.assertTrue(wait_until(lambda: self.settings()["settings"]["charge_current"] >= 120, 20))
        before = self.settings()["settings"]["charge_current"]
        # The house (as the meter sees it) jumps to 30 A per phase: above MaxMains 25 A.
        self.meters.command("set 10 currents 30 30 30")
        self.assertTrue(wait_until(lambda: self.settings()["settings"]["charge_current"] <= before - 50,
                                   POLL_S + 1.5))
        self.assertEqual(self.settings()["evsed"]["limited_by"], "max_mains")


class FaultTest(ModbusCase):
    def setUp(self):
        super().setUp()
        self.meters.command("set 10 currents 5 5 5")
        self.assertTrue(wait_until(lambda: self.mains() == (50, 50, 50), 3))
        self.http.post("/settings?mode=3")  # meter errors count outside Normal mode

    def fault_raises_and_clears(self, fault, kind, address=10, message="Communication Error", timeout_s=3):
        before = self.settings()["evsed"]["meters"]["mains" if address == 10 else "ev"]["errors"][kind]
        self.meters.command(f"fault {address} {fault}")
        start = time.monotonic()
        self.assertTrue(wait_until(lambda: self.error() == message, timeout_s + 3), (fault, self.error()))
        self.assertGreaterEqual(time.monotonic() - start, timeout_s - 1.0, "raised before its timeout")
        stats = self.settings()["evsed"]["meters"]["mains" if address == 10 else "ev"]
        self.assertGreater(stats["errors"][kind], before, (fault, stats))
        self.assertIn(kind, stats["last_error"])
        self.meters.command(f"fault {address} none")
        self.assertTrue(wait_until(lambda: self.error() == "None", 3), (fault, self.error()))
        # Logged once per change of condition, not once per poll.
        lines = [line for line in self.evsed.log if f"address {address}: {kind}" in line]
        self.assertLessEqual(len(lines), 2, lines)

    def test_silence(self):
        self.fault_raises_and_clears("silence", "timeout")

    def test_crc_garbage(self):
        self.fault_raises_and_clears("crc", "crc")

    def test_exception_replies(self):
        self.fault_raises_and_clears("exception", "exception")

    def test_replies_slower_than_the_timeout(self):
        self.fault_raises_and_clears("slow", "timeout")

    def test_wrong_byte_count(self):
        self.fault_raises_and_clears("short", "byte_count")

    def test_ev_meter_silence(self):
        self.fault_raises_and_clears("silence", "timeout", address=12, message="EV Meter Comm Error", timeout_s=4)


class PortTest(ModbusCase):
    def test_the_pty_disappears_and_comes_back(self):
        self.meters.command("set 10 currents 5 5 5")
        self.assertTrue(wait_until(lambda: self.mains() == (50, 50, 50), 3))
        self.http.post("/settings?mode=3")
        # The USB adapter is unplugged: both ends of the pty pair vanish.
        self.bus.stop()
        self.meters.close()
        self.assertTrue(wait_until(lambda: self.error() == "Communication Error", 8))
        self.assertGreater(self.settings()["evsed"]["meters"]["mains"]["errors"]["port"], 0)
        self.assertIsNone(self.evsed.proc.poll(), "evsed keeps running")
        # And plugged in again.
        self.bus.start()
        self.meters = MeterSim(self.bus.meter, "Eastron3P@10", f"{self.ev_type}@12")
        self.meters.command("set 10 currents 7 7 7")
        self.assertTrue(wait_until(lambda: self.mains() == (70, 70, 70), 40))
        self.assertTrue(wait_until(lambda: self.error() == "None", 5))
        # No busy loop while the port was gone: a handful of reopen attempts, not thousands.
        reopen_logs = [line for line in self.evsed.log if "retrying" in line]
        self.assertLessEqual(len(reopen_logs), 3, reopen_logs)


if __name__ == "__main__":
    unittest.main()
