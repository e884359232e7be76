#!/usr/bin/python3
"""The Debian package on a booted systemd: a Debian root started with systemd-nspawn --boot,
the package installed with apt as a user would, and the service driven with systemctl, kill,
journalctl and curl inside it.

Usage: booted.py ROOT NEW_DEB_DIR OLD_DEB_DIR FAKE_GPIOD_SO LABEL

ROOT is a debootstrapped Debian with systemd, curl and the package's dependencies (made by
scripts/package-test); it is never changed: the container runs on an overlay of it. The board is
the gpio board on a fake sysfs tree (tests/integration/test_hardware.FakeBoard, driven from here)
with the link-seam libgpiod fake, so the safe state after every stop can be seen on its lines.
"""

import glob
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
from test_hardware import FakeBoard  # noqa: E402

ROOT, NEW, OLD, FAKE_GPIOD, LABEL = sys.argv[1:6]
del sys.argv[1:6]
# Where the fake tree appears inside (outside /tmp: PrivateTmp hides that).
BOARD_DIR = "/srv/fakeboard"
os.umask(0)  # the fake tree is written by evsed's own user inside the container


def deb(directory, name="evsed"):
    found = sorted(glob.glob(os.path.join(directory, f"{name}_*.deb")))
    assert found, f"no {name}_*.deb in {directory}"
    return os.path.basename(found[-1])


class Container:
    """A booted container on an overlay of ROOT; always stopped and unmounted."""

    def __init__(self):
        self.tmp = tempfile.mkdtemp(prefix="evsed-booted-", dir="/var/tmp")
        self.upper, self.work, self.merged = (os.path.join(self.tmp, d) for d in ("upper", "work", "merged"))
        for d in (self.upper, self.work, self.merged):
            os.makedirs(d)
        self.board = FakeBoard()
        # The fake tree inside the container at BOARD_DIR: evsed and its safe state see it there.
        shutil.copy(FAKE_GPIOD, os.path.join(self.board.root, "libevsed_fake_gpiod.so"))
        os.chmod(self.board.root, 0o755)
        subprocess.run(["mount", "-t", "overlay", "overlay", "-o",
                        f"lowerdir={ROOT},upperdir={self.upper},workdir={self.work}", self.merged], check=True)
        self.log = open(os.path.join(self.tmp, "console.log"), "w")
        self.proc = subprocess.Popen(
            ["systemd-nspawn", "--quiet", "--boot", "--register=no", "--keep-unit", "--private-network",
             f"--machine=evsed-{os.getpid()}", "-D", self.merged, f"--bind-ro={NEW}:/debs/new",
             f"--bind-ro={OLD}:/debs/old", f"--bind={self.board.root}:{BOARD_DIR}"],
            stdin=subprocess.DEVNULL, stdout=self.log, stderr=subprocess.STDOUT,
            env=dict(os.environ, SYSTEMD_NSPAWN_UNIFIED_HIERARCHY="1"))
        self.init = None
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and self.init is None:
            self.init = self._container_init()
            time.sleep(0.2)
        assert self.init, "the container did not start; console:\n" + self.console()
        state = ""
        while time.monotonic() < deadline:
            state = self.sh("systemctl is-system-running", check=False).stdout.strip()
            if state in ("running", "degraded"):
                break
            time.sleep(0.3)
        assert state in ("running", "degraded"), f"boot did not finish ({state}):\n" + self.console()
        # No network manager in this root: network-online.target (which 0.1's unit waits for)
        # would wait two minutes for systemd-networkd. On a real system something brings it up.
        self.sh("systemctl mask --now systemd-networkd-wait-online.service >/dev/null 2>&1 || true")

    def _container_init(self):
        """The host pid of the container's systemd (the nspawn child's child)."""
        pids = [self.proc.pid]
        while pids:
            pid = pids.pop()
            try:
                with open(f"/proc/{pid}/comm") as f:
                    comm = f.read().strip()
                with open(f"/proc/{pid}/task/{pid}/children") as f:
                    children = [int(c) for c in f.read().split()]
            except OSError:
                continue
            if comm == "systemd" and pid != self.proc.pid:
                return pid
            pids.extend(children)
        return None

    def console(self):
        self.log.flush()
        with open(self.log.name) as f:
            return f.read()[-3000:]

    def sh(self, command, check=True, timeout=120):
        r = subprocess.run(["nsenter", "-t", str(self.init), "-m", "-u", "-i", "-n", "-p", "-C", "-r", "-w",
                            "/bin/sh", "-c", command], capture_output=True, text=True, timeout=timeout,
                           env={"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LANG": "C.UTF-8", "TERM": "dumb"})
        if check and r.returncode != 0:
            raise AssertionError(f"{command}: exit {r.returncode}\n{r.stdout}\n{r.stderr}")
        return r

    def close(self):
        try:
            if self.proc.poll() is None:
                # Ask nicely (the container's systemd goes down in order), then insist.
                self.proc.send_signal(signal.SIGRTMIN + 4)
                try:
                    self.proc.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    self.proc.kill()
                    self.proc.wait()
        finally:
            self.log.close()
            subprocess.run(["umount", "-l", self.merged], check=False)
            self.board.close()
            shutil.rmtree(self.tmp, ignore_errors=True)


class BootedPackageTest(unittest.TestCase):
    """One container for the whole sequence: a user's life with the package, in order."""

    @classmethod
    def setUpClass(cls):
        cls.c = Container()

    @classmethod
    def tearDownClass(cls):
        cls.c.close()

    # --- helpers ----------------------------------------------------------

    def sh(self, command, **kw):
        return self.c.sh(command, **kw)

    def main_pid(self):
        return int(self.sh("systemctl show -p MainPID --value evsed").stdout.strip() or 0)

    def wait_for(self, predicate, what, timeout=30):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if predicate():
                return
            time.sleep(0.3)
        self.fail(f"{what}; journal:\n" + self.sh("journalctl -u evsed -n 40 --no-pager", check=False).stdout)

    def active(self):
        return self.sh("systemctl is-active evsed", check=False).stdout.strip() == "active"

    def settings(self):
        import json
        r = self.sh("curl -sf http://127.0.0.1/settings", check=False)
        return json.loads(r.stdout) if r.returncode == 0 else None

    def journal_since(self, cursor, priority=None):
        """Messages of the unit after `cursor`; with `priority`, only those at it or more urgent
        (filtered here: journalctl 252 with -p and --after-cursor can skip the first match)."""
        import json
        out = self.sh(f"journalctl -u evsed --no-pager -o json --after-cursor='{cursor}'", check=False).stdout
        lines = []
        for line in out.splitlines():
            try:
                e = json.loads(line)
            except ValueError:
                continue
            if priority is not None and int(e.get("PRIORITY", 6)) > priority:
                continue
            message = e.get("MESSAGE", "")
            lines.append(message if isinstance(message, str) else bytes(message).decode(errors="replace"))
        return "\n".join(lines) + "\n"

    def cursor(self):
        out = self.sh("journalctl -n 0 --show-cursor --no-pager", check=False).stdout
        return out.strip().split("cursor: ")[-1]

    def safe_state_seen(self, cursor):
        """The stop path ran: evsed --safe-state said so, and the fake board's contactor is open."""
        text = self.journal_since(cursor)
        return "safe state: contactors open" in text and self.c.board.line("GPIO17") == "0"

    def use_the_fake_board(self):
        """The gpio board on the fake tree: config drop-in and a unit drop-in for the fake libgpiod."""
        self.sh(f"""mkdir -p /etc/evsed/evsed.toml.d /etc/systemd/system/evsed.service.d
cat >/etc/evsed/evsed.toml.d/90-board.toml <<EOF
[board]
kind = "gpio"
sysfs_root = "{BOARD_DIR}/sys"
dev_root = "{BOARD_DIR}/dev"
adc_samples_per_window = 2
EOF
cat >/etc/systemd/system/evsed.service.d/fake-board.conf <<EOF
[Service]
Environment=LD_PRELOAD={BOARD_DIR}/libevsed_fake_gpiod.so EVSED_FAKE_GPIO={BOARD_DIR}/gpio
ReadWritePaths={BOARD_DIR}
EOF
systemctl daemon-reload""")

    # --- the sequence -----------------------------------------------------

    def test_a_user_s_life_with_the_package(self):
        old, new = deb(OLD), deb(NEW)
        # 1. The previous release, installed and configured the way its users did: an edited evsed.toml.
        r = self.sh(f"DEBIAN_FRONTEND=noninteractive apt-get install -y /debs/old/{old} </dev/null")
        self.wait_for(self.active, "0.1 did not start")
        self.wait_for(lambda: self.settings() is not None, "0.1 does not answer")
        self.sh("sed -i 's/^current_max = 16/current_max = 20/' /etc/evsed/evsed.toml && systemctl restart evsed")
        self.wait_for(lambda: (s := self.settings()) and s["settings"]["current_max"] == 20, "the edit is in force")
        self.sh("curl -sf -X POST 'http://127.0.0.1/settings?mode=0&stop_timer=7'")

        # 2. The upgrade: non-interactive, no prompt, edits and run-time settings kept.
        r = self.sh(f"DEBIAN_FRONTEND=noninteractive apt-get install -y /debs/new/{new} </dev/null 2>&1")
        self.assertNotIn("Configuration file", r.stdout, "dpkg asked about the configuration file")
        self.assertIn("evsed answers on", r.stdout, "the install says where to go")
        self.assertRegex(r.stdout, r"http://127\.0\.0\.1/")
        self.assertIn("50-from-0.1.toml", r.stdout)
        self.assertIn("grep 'setup code'", r.stdout, "the install says how to make the first admin")
        self.wait_for(self.active, "0.2 did not start after the upgrade")
        self.wait_for(lambda: self.settings() is not None, "0.2 does not answer")
        s = self.settings()
        self.assertEqual(s["version"], new.split("_")[1])
        self.assertEqual(s["settings"]["current_max"], 20, "the edit survived the upgrade")
        page = self.sh("curl -sf --compressed http://127.0.0.1/", check=False).stdout
        self.assertIn("<title>evsed</title>", page, "the dashboard is served at /")
        self.sh("curl -sf http://127.0.0.1/sessions >/dev/null && test -f /var/lib/evsed/sessions.db")
        self.assertEqual((s["mode"], s["settings"]["solar_stop_time"]), ("OFF", 7), "run-time settings kept")
        self.assertEqual(self.sh("stat -c '%a %U:%G' /etc/evsed/evsed.toml").stdout.strip(), "640 root:evsed")
        self.assertEqual(self.sh("ls /etc/evsed/evsed.toml.d").stdout.split(), ["50-from-0.1.toml"])
        self.assertEqual(self.sh("evsed --check-config; echo rc=$?").stdout.strip().splitlines()[-1], "rc=0")
        self.sh("test -f /usr/share/doc/evsed/examples/evsed.toml && test -f /usr/share/doc/evsed/rest-api.md")
        self.sh("man -w evsed.toml >/dev/null 2>&1 || test -f /usr/share/man/man5/evsed.toml.5.gz")

        # 3. The board: the gpio board on the fake tree, so stops can be seen on its lines.
        self.use_the_fake_board()
        self.sh("systemctl restart evsed")
        self.wait_for(lambda: self.settings() is not None, "evsed on the fake board does not answer")

        def duty():
            try:
                return self.c.board.duty()
            except OSError:
                return None  # the fake kernel makes pwm0 a moment after the export
        self.wait_for(lambda: duty() == "1000000", "the pilot at +12 V on the fake PWM")

        # 4. Reload with a changed setting: in force, same process.
        pid = self.main_pid()
        self.sh("printf '[evse]\\ncurrent_max = 24\\n' >/etc/evsed/evsed.toml.d/60-test.toml && systemctl reload evsed")
        self.wait_for(lambda: (s := self.settings()) and s["settings"]["current_max"] == 24, "the reload applied")
        self.assertEqual(self.main_pid(), pid, "a reload keeps the process (and a charging session)")

        # 5. Reload with a broken config: refused, still running, the journal names the key at error priority.
        cursor = self.cursor()
        self.sh("printf '[evse]\\ncurrent_max = 500\\n' >/etc/evsed/evsed.toml.d/60-test.toml && systemctl reload evsed")
        self.wait_for(lambda: "reload refused" in self.journal_since(cursor), "the refusal is logged")
        self.assertTrue(self.active())
        self.assertEqual(self.main_pid(), pid)
        errors = self.journal_since(cursor, 3)
        self.assertIn("evse.current_max", errors, "the error reaches the journal at its priority:\n" + self.journal_since(cursor))
        self.assertIn("60-test.toml", errors, "and names the file")
        self.assertIn("reload refused", self.journal_since(cursor, 4))
        self.assertEqual(self.settings()["settings"]["current_max"], 24, "the running configuration is kept")
        self.sh("rm /etc/evsed/evsed.toml.d/60-test.toml")

        # 6. kill -9: restarted, and the stop path left the board safe.
        # Steps 1-5 started the unit more often in 10 s than systemd's start
        # limit (5) allows; a slower machine would then see the two restarts
        # below refused. reset-failed zeroes that counter, nothing else.
        self.sh("systemctl reset-failed evsed")
        cursor = self.cursor()
        self.sh(f"kill -9 {pid}")
        self.wait_for(lambda: self.main_pid() not in (0, pid) and self.active(), "not restarted after kill -9")
        self.wait_for(lambda: self.safe_state_seen(cursor), "no safe state after kill -9")

        # 7. A stopped process: the watchdog ends it, the safe state runs, systemd starts it again.
        pid = self.main_pid()
        self.wait_for(lambda: self.settings() is not None, "answers again")
        cursor = self.cursor()
        self.sh(f"kill -STOP {pid}")
        self.c.board.set_line("GPIO17", "1")  # what a hung process might leave closed
        self.wait_for(lambda: self.main_pid() not in (0, pid) and self.active(), "the watchdog did not restart it", 40)
        self.wait_for(lambda: self.safe_state_seen(cursor), "no safe state after the watchdog")
        self.assertIn("watchdog", self.sh("journalctl -u evsed --no-pager -o cat -n 60").stdout.lower())

        # 8. A typo in the configuration: exit 78, no restart loop, a clear journal line.
        cursor = self.cursor()
        self.sh("printf '[evse]\\ncurrent_maxx = 16\\n' >/etc/evsed/evsed.toml.d/70-typo.toml")
        self.sh("systemctl restart evsed", check=False)
        time.sleep(6)  # three restart periods: a loop would show
        status = self.sh("systemctl show -p ExecMainStatus -p NRestarts -p ActiveState evsed").stdout
        self.assertIn("ExecMainStatus=78", status)
        self.assertIn("NRestarts=0", status, "no restart loop")
        self.assertIn("ActiveState=failed", status)
        self.assertIn("evse.current_maxx", self.journal_since(cursor, 3))
        self.assertIn("check it with: evsed --check-config", self.journal_since(cursor))
        self.assertTrue(self.safe_state_seen(cursor), "a failed start leaves the board safe too")
        self.sh("rm /etc/evsed/evsed.toml.d/70-typo.toml && systemctl restart evsed")
        self.wait_for(self.active, "starts again once the typo is fixed, without reset-failed")

        # 9. Accounts, a login and HTTPS, as docs/security.md tells a user to set them up.
        pw = "booted admin pw 9"
        self.assertRegex(self.sh("journalctl -u evsed --no-pager -o cat").stdout, r"setup code [2-9A-Z]{4}-",
                         "no admin yet: the journal has the first visit's code")
        self.assertIn('"pending":true', self.sh("curl -sf http://127.0.0.1/setup").stdout)
        r = self.sh(f"printf '%s\\n' '{pw}' | evsed passwd admin")
        self.assertIn("systemctl reload evsed", r.stdout)
        self.assertEqual(self.sh("stat -c '%a %U' /var/lib/evsed/users.json").stdout.strip(), "600 evsed",
                         "the service can read the accounts, nobody else")
        self.sh("""printf '[http]\\ntrusted_networks = []\\ntls_listen = "127.0.0.1:8443"\\n' \\
                   >/etc/evsed/evsed.toml.d/60-access.toml && systemctl restart evsed""")
        self.wait_for(lambda: self.settings() is not None, "answers with accounts")
        code = "curl -s -o /dev/null -w '%{http_code}' -X POST"
        self.assertEqual(self.sh(f"{code} 'http://127.0.0.1/settings?mode=3'").stdout, "401", "a stranger may not")
        self.assertEqual(self.sh(f"{code} -u 'admin:{pw}' 'http://127.0.0.1/settings?mode=3'").stdout, "200")
        login = self.sh(f"curl -sf -c /tmp/jar -H 'X-Requested-With: evsed' --data-urlencode user=admin "
                        f"--data-urlencode 'password={pw}' http://127.0.0.1/login").stdout
        import json
        csrf = json.loads(login)["csrf"]
        self.assertEqual(self.sh(f"{code} -b /tmp/jar -H 'X-CSRF-Token: {csrf}' 'http://127.0.0.1/settings?mode=1'").stdout,
                         "200", "the dashboard's login works")
        self.assertEqual(self.sh(f"{code} -b /tmp/jar 'http://127.0.0.1/settings?mode=3'").stdout, "403",
                         "not without its CSRF token")
        self.wait_for(lambda: "SHA-256 fingerprint" in self.sh("journalctl -u evsed --no-pager -o cat").stdout,
                      "the self-signed certificate's fingerprint in the journal")
        self.assertEqual(self.sh("stat -c '%a %U' /var/lib/evsed/tls/key.pem").stdout.strip(), "600 evsed")
        served = self.sh("curl -sf --cacert /var/lib/evsed/tls/cert.pem https://localhost:8443/https").stdout
        self.assertTrue(json.loads(served)["enabled"], "HTTPS with the certificate the journal names")
        self.assertNotIn(pw, self.sh("journalctl --no-pager -o cat").stdout, "the password is in no log")
        self.sh("rm /etc/evsed/evsed.toml.d/60-access.toml && systemctl restart evsed")

        # 10. remove keeps the state, purge removes it.
        cursor = self.cursor()
        self.sh("DEBIAN_FRONTEND=noninteractive apt-get remove -y evsed </dev/null")
        self.assertTrue(self.safe_state_seen(cursor), "no safe state on remove")
        self.sh("test -f /var/lib/evsed/settings.json && test -f /etc/evsed/evsed.toml")
        self.sh("DEBIAN_FRONTEND=noninteractive apt-get purge -y evsed </dev/null")
        self.sh("test ! -e /var/lib/evsed && test ! -e /etc/evsed/evsed.toml")
        self.assertNotIn("50-from-0.1.toml", self.sh("ls -R /etc/evsed 2>/dev/null || true").stdout)


if __name__ == "__main__":
    print(f"== booted package test: {LABEL}", flush=True)
    unittest.main(verbosity=2)
