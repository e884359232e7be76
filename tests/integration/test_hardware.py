"""The real binary with the "gpio" board: sysfs PWM and IIO on a fake sysfs tree,
libgpiod through a link-seam fake (LD_PRELOAD; this kernel has no GPIO)."""

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from evsed_harness import BINARY, Evsed, Http, wait_until  # noqa: E402

FAKE_GPIOD = os.environ.get("EVSED_FAKE_GPIOD", os.path.join(os.path.dirname(BINARY), "tests", "libevsed_fake_gpiod.so"))
LINES = {"GPIO17": 17, "GPIO27": 27, "GPIO22": 22, "GPIO5": 5, "GPIO23": 23, "GPIO24": 24, "GPIO25": 25}


def raw_for(pilot_volts):
    """ADC counts through the reference divider at 0.8057 mV per count."""
    return round((1.70 + 0.125 * pilot_volts) * 1000 / 0.805664062)


class FakeBoard:
    """A fake /sys with a PWM chip (the kernel's export emulated), an IIO ADC and a
    thermal zone, and fake GPIO lines for the preloaded libgpiod fake."""

    def __init__(self):
        self.tmp = tempfile.TemporaryDirectory(prefix="evsed-board-")
        self.root = self.tmp.name
        self.sys = os.path.join(self.root, "sys")
        self.chip = os.path.join(self.sys, "class/pwm/pwmchip0")
        self.pwm = os.path.join(self.chip, "pwm0")
        self.iio = os.path.join(self.sys, "bus/iio/devices/iio:device0")
        self.gpio = os.path.join(self.root, "gpio")
        for d in (self.chip, self.iio, os.path.join(self.sys, "class/thermal/thermal_zone0"),
                  os.path.join(self.gpio, "gpiochip0"), os.path.join(self.gpio, "names")):
            os.makedirs(d)
        self.write(os.path.join(self.chip, "export"), "")
        self.write(os.path.join(self.chip, "unexport"), "")
        self.set_pilot(12.0)
        self.write(os.path.join(self.iio, "in_voltage1_raw"), "0")
        self.write(os.path.join(self.iio, "in_voltage_scale"), "0.805664062")
        self.write(os.path.join(self.sys, "class/thermal/thermal_zone0/temp"), "31000")
        os.makedirs(os.path.join(self.root, "dev"))
        self.write(os.path.join(self.root, "dev", "gpiochip0"), "")  # libgpiod 2 walks the chips it finds here
        for name, offset in LINES.items():
            self.write(os.path.join(self.gpio, "names", name), f"gpiochip0:{offset}")
            self.write(os.path.join(self.gpio, "gpiochip0", str(offset)), "1")  # as if left on
        self.stop = False
        self.unexported = []
        self.kernel = threading.Thread(target=self._kernel, daemon=True)
        self.kernel.start()

    @staticmethod
    def write(path, value):
        with open(path, "w") as f:
            f.write(value + "\n")

    @staticmethod
    def read(path):
        with open(path) as f:
            return f.read().strip()

    def _kernel(self):
        while not self.stop:
            if not os.path.exists(self.chip):  # a test took the chip away
                time.sleep(0.01)
                continue
            exported = self.read(os.path.join(self.chip, "export"))
            if exported:
                # The kernel's new directory appears complete: build it aside, then move it in.
                d = os.path.join(self.chip, "pwm" + exported)
                staging = os.path.join(self.root, "staging-pwm" + exported)
                os.makedirs(staging, exist_ok=True)
                for f in ("period", "duty_cycle", "enable"):
                    self.write(os.path.join(staging, f), "0")
                self.write(os.path.join(staging, "polarity"), "normal")
                os.rename(staging, d)
                self.write(os.path.join(self.chip, "export"), "")
            unexported = self.read(os.path.join(self.chip, "unexport"))
            if unexported:
                shutil.rmtree(os.path.join(self.chip, "pwm" + unexported), ignore_errors=True)
                self.unexported.append(unexported)
                self.write(os.path.join(self.chip, "unexport"), "")
            time.sleep(0.002)

    def set_pilot(self, volts):
        self.write(os.path.join(self.iio, "in_voltage0_raw"), str(raw_for(volts)))

    def line(self, name):
        return self.read(os.path.join(self.gpio, "gpiochip0", str(LINES[name])))

    def set_line(self, name, value):
        """What an input line reads (the fake libgpiod reads the file every time)."""
        self.write(os.path.join(self.gpio, "gpiochip0", str(LINES[name])), value)

    def duty(self):
        return self.read(os.path.join(self.pwm, "duty_cycle"))

    def config(self):
        return f"""
[board]
kind = "gpio"
sysfs_root = "{self.sys}"
dev_root = "{self.root}/dev"
adc_samples_per_window = 2
"""

    def env(self):
        return {"LD_PRELOAD": FAKE_GPIOD, "EVSED_FAKE_GPIO": self.gpio}

    def close(self):
        self.stop = True
        self.kernel.join()
        self.tmp.cleanup()


class SafeStateTest(unittest.TestCase):
    def test_safe_state_opens_contactors_and_leaves_the_pilot_at_full_duty(self):
        board = FakeBoard()
        try:
            cfg = os.path.join(board.root, "evsed.toml")
            board.write(cfg, board.config())
            r = subprocess.run([BINARY, "--safe-state", "--config", cfg], capture_output=True, text=True,
                               env=dict(os.environ, **board.env()), timeout=10)
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertIn("safe state", r.stderr)
            self.assertEqual(board.line("GPIO17"), "0")
            self.assertEqual(board.line("GPIO27"), "0")
            self.assertEqual(board.duty(), "1000000")
            self.assertEqual(board.read(os.path.join(board.pwm, "period")), "1000000")
            self.assertEqual(board.read(os.path.join(board.pwm, "enable")), "1")
        finally:
            board.close()

    def test_safe_state_works_when_another_section_is_wrong(self):
        board = FakeBoard()
        try:
            cfg = os.path.join(board.root, "evsed.toml")
            board.write(cfg, board.config() + "[evse]\ncurrent_max = 500\n")
            r = subprocess.run([BINARY, "--safe-state", "--config", cfg], capture_output=True, text=True,
                               env=dict(os.environ, **board.env()), timeout=10)
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertIn("current_max", r.stderr, "the mistake is still reported")
            self.assertIn("[board] alone", r.stderr)
            self.assertEqual(board.line("GPIO17"), "0")
            self.assertEqual(board.duty(), "1000000")
            # A daemon start with that file is refused as before.
            d = subprocess.run([BINARY, "--config", cfg], capture_output=True, text=True,
                               env=dict(os.environ, **board.env()), timeout=10)
            self.assertEqual(d.returncode, 78)
            # A broken [board] is not guessed at.
            board.write(cfg, board.config() + "pwm_chip = 99\n")
            r = subprocess.run([BINARY, "--safe-state", "--config", cfg], capture_output=True, text=True,
                               env=dict(os.environ, **board.env()), timeout=10)
            self.assertEqual(r.returncode, 1)
            self.assertIn("cannot read [board]", r.stderr)
        finally:
            board.close()

    def test_safe_state_reports_what_it_could_not_do(self):
        board = FakeBoard()
        try:
            shutil.rmtree(board.chip)
            cfg = os.path.join(board.root, "evsed.toml")
            board.write(cfg, board.config())
            r = subprocess.run([BINARY, "--safe-state", "--config", cfg], capture_output=True, text=True,
                               env=dict(os.environ, **board.env()), timeout=10)
            self.assertEqual(r.returncode, 1)
            self.assertIn("pwmchip0", r.stderr)
            self.assertEqual(board.line("GPIO17"), "0", "the contactors are opened anyway")
        finally:
            board.close()


class GpioDaemonTest(unittest.TestCase):
    def setUp(self):
        self.board = FakeBoard()

    def tearDown(self):
        self.board.close()

    def start(self, extra=""):
        evsed = Evsed(config_text=self.board.config() + extra, env=self.board.env(), simulate=False)
        evsed.wait_ready()
        return evsed

    def test_runs_on_the_drivers_and_stops_safe(self):
        evsed = self.start()
        try:
            http = Http(evsed.port)
            self.assertEqual(self.board.duty(), "1000000")
            self.assertEqual(self.board.line("GPIO17"), "0")  # opened at start
            self.assertEqual(http.settings()["evse"]["temp"], 31)
            self.board.set_pilot(9.0)  # a car plugs in
            self.assertTrue(wait_until(lambda: http.settings()["evse"]["state_id"] == 1, 5))
            # The PWM offers current. A plain file stands in for the sysfs node, so a read
            # can land between evsed's truncate and write: wait for a complete value.
            offers = ("99609", "265625")
            self.assertTrue(wait_until(lambda: self.board.duty() in offers, 5), self.board.duty())
            self.assertEqual(self.board.line("GPIO17"), "0", "no contactor without the diode")
            rc, elapsed = evsed.stop(signal.SIGTERM)
            self.assertEqual(rc, 0, evsed.log)
            self.assertTrue(wait_until(lambda: "0" in self.board.unexported, 2), "PWM unexported on stop")
            self.assertEqual(self.board.line("GPIO17"), "0")
            self.assertEqual(self.board.line("GPIO27"), "0")
        finally:
            evsed.close()

    def test_a_missing_device_is_one_clear_start_up_error(self):
        shutil.rmtree(self.board.iio)
        evsed = Evsed(config_text=self.board.config(), env=self.board.env(), simulate=False)
        try:
            self.assertEqual(evsed.wait_exit(), 1)
            errors = [line for line in evsed.log if "error" in line]
            self.assertEqual(len(errors), 1, evsed.log)
            self.assertIn("iio:device0", errors[0])
        finally:
            evsed.close()

    def test_a_failing_write_opens_the_contactor_and_is_reported(self):
        evsed = self.start()
        try:
            http = Http(evsed.port)
            # duty_cycle becomes a read-only sysfs node: the PWM start in B fails.
            os.remove(os.path.join(self.board.pwm, "duty_cycle"))
            os.symlink("/sys/devices/system/cpu/online", os.path.join(self.board.pwm, "duty_cycle"))
            self.board.set_pilot(9.0)
            self.assertTrue(wait_until(lambda: http.settings()["evse"]["error"] == "Hardware Fault", 5),
                            http.settings()["evse"])
            self.assertIn("hardware_fault", http.settings()["evsed"]["errors"])
            self.assertEqual(self.board.line("GPIO17"), "0")
            self.assertTrue(any("duty_cycle" in line and "Permission denied" in line for line in evsed.log), evsed.log)
        finally:
            evsed.close()

    def test_the_external_switch_line_drives_access(self):
        self.board.set_line("GPIO5", "0")
        evsed = self.start('switch = "GPIO5"\n[evse]\nswitch = "Access S"\n')
        try:
            http = Http(evsed.port)
            self.assertTrue(wait_until(lambda: http.settings()["evsed"]["switch"]["closed"] is False, 5))
            self.assertEqual(http.settings()["evsed"]["switch"]["function"], "Access S")
            self.assertTrue(wait_until(lambda: http.settings()["evse"]["access"] == 0, 5))
            self.board.set_line("GPIO5", "1")
            self.assertTrue(wait_until(lambda: http.settings()["evse"]["access"] == 1, 5), http.settings()["evse"])
            self.assertTrue(http.settings()["evsed"]["switch"]["closed"])
            self.assertTrue(any("external switch closed" in line for line in evsed.log), evsed.log)
        finally:
            evsed.close()

    def test_the_lock_is_pulsed_again_until_its_feedback_says_locked(self):
        self.board.set_line("GPIO25", "0")  # motor lock: high = locked
        evsed = self.start('lock_a = "GPIO23"\nlock_b = "GPIO24"\nlock_feedback = "GPIO25"\n'
                           '[evse]\nconfig = "Socket"\nlock = "Motor"\n')
        try:
            http = Http(evsed.port)
            pulsing = lambda: self.board.line("GPIO24") == "1" and self.board.line("GPIO23") == "0"  # noqa: E731
            idle = lambda: self.board.line("GPIO23") == "1" and self.board.line("GPIO24") == "1"  # noqa: E731
            self.board.set_pilot(9.0)  # a car plugs in: lock
            self.assertTrue(wait_until(pulsing, 5, interval=0.02))
            self.assertTrue(wait_until(idle, 2, interval=0.02), "the 600 ms pulse ends")
            self.assertIs(http.settings()["evsed"]["lock_feedback"], False)
            # Still not locked: the pulse is repeated (every 5 s).
            self.assertTrue(wait_until(pulsing, 8, interval=0.02), "retried")
            self.board.set_line("GPIO25", "1")
            self.assertTrue(wait_until(lambda: http.settings()["evsed"]["lock_feedback"] is True, 5))
            self.assertTrue(wait_until(idle, 2, interval=0.02))
            # Forced open later: watched for good, so it is driven again.
            self.board.set_line("GPIO25", "0")
            self.assertTrue(wait_until(pulsing, 8, interval=0.02), "driven again after being forced open")
        finally:
            evsed.close()


if __name__ == "__main__":
    unittest.main()
