"""The real evsed binary: start-up, readiness, SIGTERM, settings file, config errors."""

import json
import tempfile
import time
import os
import signal
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from evsed_harness import wait_until, BINARY, Evsed, Http, read_json  # noqa: E402

DEFAULT_RUNTIME = {
    "access": 1,
    "mode": 0,
    "enable_C2": 3,
    "current_min": 6,
    "solar_start_current": 4,
    "solar_stop_time": 10,
    "solar_max_import": 0,
    "capacity_mode": 0,
    "current_max_sum_mains": 0,
    "max_sum_mains_time": 0,
    "intervals": [],
    "cablelock": False,
    "starttime": None,
    "stoptime": None,
    "repeat": False,
}


class SigtermTest(unittest.TestCase):
    def test_sigterm_leaves_the_board_safe_and_exits_zero(self):
        with Evsed() as evsed:
            evsed.wait_ready()
            rc, elapsed = evsed.stop(signal.SIGTERM)
            self.assertEqual(rc, 0, "\n".join(evsed.log))
            self.assertLess(elapsed, 1.0)
            tail = "\n".join(evsed.log[-4:])
            self.assertIn("safe state: contactors open, pilot at +12 V", tail)
            self.assertEqual(self._drain(evsed), "STOPPING=1")
            saved = read_json(evsed.settings_path)
            for key, value in DEFAULT_RUNTIME.items():
                self.assertEqual(saved[key], value, key)
            self.assertFalse(os.path.exists(evsed.settings_path + ".tmp"))

    def test_sigint_is_handled_like_sigterm(self):
        with Evsed() as evsed:
            evsed.wait_ready()
            rc, _ = evsed.stop(signal.SIGINT)
            self.assertEqual(rc, 0)
            self.assertTrue(any("safe state" in line for line in evsed.log))

    @staticmethod
    def _drain(evsed):
        evsed.read_notifications(0.2)
        return "STOPPING=1" if "STOPPING=1" in evsed.notifications else ""


class SettingsFileTest(unittest.TestCase):
    def _state_with(self, content):
        import tempfile

        d = tempfile.mkdtemp(prefix="evsed-state-")
        with open(os.path.join(d, "settings.json"), "w") as f:
            f.write(content)
        return d

    def test_corrupt_settings_file_is_kept_aside_and_defaults_are_used(self):
        state = self._state_with("{ this is not json")
        with Evsed(state_dir=state) as evsed:
            evsed.wait_ready()
            self.assertTrue(evsed.wait_log("is invalid"), "\n".join(evsed.log))
            with open(os.path.join(state, "settings.json.bad")) as f:
                self.assertEqual(f.read(), "{ this is not json")
            saved = read_json(os.path.join(state, "settings.json"))
            self.assertEqual(saved["mode"], 0)
            self.assertEqual(saved["access"], 1)
            rc, _ = evsed.stop()
            self.assertEqual(rc, 0)

    def test_out_of_range_value_is_dropped_alone(self):
        # Issue 11 item 7: only the invalid value goes (logged with its reason); the rest is kept.
        bad = dict(DEFAULT_RUNTIME, format=1, mode=1, current_min=99)
        state = self._state_with(json.dumps(bad))
        with Evsed(state_dir=state) as evsed:
            evsed.wait_ready()
            self.assertTrue(evsed.wait_log("current_min = 99 is not allowed"), "\n".join(evsed.log))
            self.assertTrue(wait_until(lambda: read_json(os.path.join(state, "settings.json"))["current_min"] == 6, 5))
            saved = read_json(os.path.join(state, "settings.json"))
            self.assertEqual(saved["mode"], 1, "the valid values are kept")
            evsed.stop()

    def test_valid_settings_survive_a_restart(self):
        good = dict(DEFAULT_RUNTIME, format=1, access=0, enable_C2=1, solar_start_current=7,
                    starttime="2030-01-02T03:04:00")
        state = self._state_with(json.dumps(good))
        with Evsed(state_dir=state) as evsed:
            evsed.wait_ready()
            evsed.stop()
            saved = read_json(os.path.join(state, "settings.json"))
            for key in ("access", "enable_C2", "solar_start_current", "starttime"):
                self.assertEqual(saved[key], good[key], key)
            self.assertFalse(os.path.exists(os.path.join(state, "settings.json.bad")))


class ConfigTest(unittest.TestCase):
    def _fails_with(self, config_text, *expected):
        with Evsed(config_text=config_text) as evsed:
            rc = evsed.wait_exit()
            self.assertEqual(rc, 78, "EX_CONFIG: systemd does not restart on it")
            errors = [line for line in evsed.log if "error" in line]
            # One line per problem, then what to run to check a fix (issue 13).
            self.assertEqual(len(errors), 2, evsed.log)
            self.assertIn("evsed --check-config", errors[1])
            for text in expected:
                self.assertIn(text, errors[0])

    def test_unknown_key(self):
        self._fails_with("[evse]\ncurrent_maxx = 10\n", "evse.current_maxx", "allowed in [evse]")

    def test_value_out_of_range(self):
        self._fails_with("[evse]\ncurrent_main = 300\n", "evse.current_main = 300", "10..200")

    def test_wrong_type(self):
        self._fails_with('[evse]\ncurrent_max = "16"\n', "evse.current_max", "an integer")

    def test_unknown_choice(self):
        self._fails_with('[evse]\nenable_C2 = "Sometimes"\n', 'enable_C2 = "Sometimes"', '"Always On"')

    def test_min_above_max(self):
        self._fails_with("[evse]\ncurrent_min = 12\ncurrent_max = 10\n", "current_min = 12", "current_max")

    def test_example_config_is_valid(self):
        example = os.path.join(os.path.dirname(__file__), "..", "..", "config", "evsed.toml")
        with open(example) as f:
            text = f.read()
        with Evsed(config_text=text) as evsed:
            evsed.wait_ready()
            self.assertEqual(evsed.stop()[0], 0)
            self.assertTrue(any("mains meter API" in line for line in evsed.log), evsed.log)

    def test_a_start_logs_no_spurious_switch_change(self):
        # Issue 13: "external switch open" at every start, with no switch changing at all.
        with Evsed() as evsed:
            evsed.wait_ready()
            time.sleep(0.5)  # past the inputs' first debounced reading
            self.assertFalse(any("external switch" in line for line in evsed.log), evsed.log)

    def test_check_config(self):
        with tempfile.TemporaryDirectory(prefix="evsed-check-") as tmp:
            main = os.path.join(tmp, "evsed.toml")
            with open(main, "w") as f:
                f.write("[evse]\ncurrent_max = 16\n")
            os.makedirs(main + ".d")
            with open(os.path.join(main + ".d", "50-local.toml"), "w") as f:
                f.write("[evse]\ncurrent_max = 99\n[modbus]\nbaud = 7\n")
            r = subprocess.run([BINARY, "--check-config", "--config", main, "--state-dir", tmp], capture_output=True,
                               text=True, timeout=10)
            self.assertEqual(r.returncode, 78, r.stdout)
            self.assertIn("50-local.toml: line 2: evse.current_max = 99", r.stdout, "every problem, with its file")
            self.assertIn("50-local.toml: line 4: modbus.baud = 7", r.stdout)
            with open(os.path.join(main + ".d", "50-local.toml"), "w") as f:
                f.write("[evse]\ncurrent_max = 20\n")
            r = subprocess.run([BINARY, "--check-config", "--config", main, "--state-dir", tmp], capture_output=True,
                               text=True, timeout=10)
            self.assertEqual(r.returncode, 0, r.stdout)
            self.assertIn("50-local.toml", r.stdout)
            # The drop-in's value is in force.
            with Evsed("--config", main, state_dir=os.path.join(tmp, "state")) as evsed:
                evsed.wait_ready()
                self.assertEqual(Http(evsed.port).settings()["settings"]["current_max"], 20)

    def test_sighup_reloads_and_refuses_a_broken_configuration(self):
        with tempfile.TemporaryDirectory(prefix="evsed-reload-") as tmp:
            main = os.path.join(tmp, "evsed.toml")
            with open(main, "w") as f:
                f.write("[evse]\ncurrent_max = 16\n")
            with Evsed("--config", main, state_dir=os.path.join(tmp, "state")) as evsed:
                evsed.wait_ready()
                http = Http(evsed.port)
                http.post("/simulator?ev=C")
                self.assertTrue(wait_until(lambda: http.settings()["evse"]["state_id"] == 2, 10))
                with open(main, "w") as f:
                    f.write("[evse]\ncurrent_max = 20\n")
                evsed.proc.send_signal(signal.SIGHUP)
                self.assertTrue(wait_until(lambda: http.settings()["settings"]["current_max"] == 20, 5))
                self.assertEqual(http.settings()["evse"]["state_id"], 2, "the session went on")
                with open(main, "w") as f:
                    f.write("[evse]\ncurrent_max = 200\n")
                evsed.proc.send_signal(signal.SIGHUP)
                self.assertTrue(evsed.wait_log("reload refused", 5), evsed.log)
                self.assertTrue(any("evse.current_max = 200" in line for line in evsed.log))
                self.assertEqual(http.settings()["settings"]["current_max"], 20)
                self.assertIsNone(evsed.proc.poll())

    def test_simulate_without_mains_meter_uses_the_simulated_site(self):
        with Evsed(config_text="[evse]\ncurrent_max = 20\n") as evsed:
            evsed.wait_ready()
            evsed.stop()
            self.assertTrue(any("mains meter Sim" in line for line in evsed.log), evsed.log)


class CommandLineTest(unittest.TestCase):
    def test_help_lists_every_flag(self):
        out = subprocess.run([BINARY, "--help"], capture_output=True, text=True, check=True).stdout
        for flag in ("--config", "--simulate", "--listen", "--state-dir", "--log-level", "--version", "--help"):
            self.assertIn(flag, out)

    def test_version_names_the_libraries(self):
        out = subprocess.run([BINARY, "--version"], capture_output=True, text=True, check=True).stdout
        self.assertTrue(out.startswith("evsed "))
        for lib in ("Boost", "Paho", "libmodbus", "libgpiod", "spdlog", "nlohmann_json", "toml++"):
            self.assertIn(lib, out)

    def test_bad_option(self):
        r = subprocess.run([BINARY, "--frobnicate"], capture_output=True, text=True)
        self.assertEqual(r.returncode, 2)
        self.assertIn("--frobnicate", r.stderr)

    def test_bad_listen_address(self):
        r = subprocess.run([BINARY, "--listen", "localhost"], capture_output=True, text=True)
        self.assertEqual(r.returncode, 2)
        self.assertIn("ADDRESS:PORT", r.stderr)


class WatchdogTest(unittest.TestCase):
    def test_watchdog_is_fed_while_the_pilot_is_sampled(self):
        with Evsed(env={"WATCHDOG_USEC": "2000000"}) as evsed:
            evsed.wait_ready()
            self.assertTrue(evsed.wait_for_notification("WATCHDOG=1", timeout=5))
            evsed.stop()


if __name__ == "__main__":
    unittest.main()
