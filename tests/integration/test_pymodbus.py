"""Our Eastron SDM630 decoding against a meter served by pymodbus, which we did not write."""

import os
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from evsed_harness import Evsed, Http, PtyBus, wait_until  # noqa: E402

PYTHON = "/usr/bin/python3"  # Debian's python3: it sees python3-pymodbus


class PymodbusSdm630Test(unittest.TestCase):
    def test_evsed_reads_an_sdm630_served_by_pymodbus(self):
        with tempfile.TemporaryDirectory(prefix="evsed-pymodbus-") as tmp:
            bus = PtyBus(tmp)
            server = subprocess.Popen(
                [PYTHON, os.path.join(os.path.dirname(__file__), "pymodbus_sdm630.py"), bus.meter, "10",
                 "12.5", "3.0", "0.5", "2875", "-690", "115", "1234.5", "67.8"],
                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            try:
                self.assertEqual(server.stdout.readline().strip(), "ready")
                evsed = Evsed(config_text=f"""
[mains_meter]
type = "Eastron3P"
address = 10
[modbus]
port = "{bus.evse}"
poll_interval_ms = 500
""")
                try:
                    evsed.wait_ready()
                    http = Http(evsed.port)

                    def mains():
                        pc = http.settings()["phase_currents"]
                        return pc["L1"], pc["L2"], pc["L3"]

                    self.assertTrue(wait_until(lambda: mains() == (125, -30, 5), 5), mains())
                    self.assertEqual(http.settings()["phase_currents"]["TOTAL"], 100)
                    mm = wait_until(lambda: http.settings().get("mains_meter"), 5)
                    self.assertEqual(mm["import_active_energy"], 1_234_500)
                    self.assertEqual(http.settings()["evsed"]["meters"]["mains"]["last_error"], "")
                finally:
                    evsed.close()
            finally:
                server.terminate()
                server.wait()
                server.stdout.close()
                server.stderr.close()
                bus.close()


if __name__ == "__main__":
    unittest.main()
