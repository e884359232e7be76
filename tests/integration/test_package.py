"""The Debian package: built with dpkg-buildpackage, listed, linted, installed into a temporary root."""

import os
import re
import subprocess
import sys
import tempfile
import unittest

SOURCE = os.environ.get("EVSED_SOURCE", os.path.join(os.path.dirname(__file__), "..", ".."))


def run(*cmd, **kw):
    return subprocess.run(cmd, capture_output=True, text=True, **kw)


class PackageTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory(prefix="evsed-deb-")
        out = os.path.join(cls.tmp.name, "out")
        r = run(os.path.join(SOURCE, "scripts", "build-deb"), out, cwd=SOURCE)
        if r.returncode != 0:
            raise AssertionError("build-deb failed:\n" + r.stdout + r.stderr)
        debs = [f for f in os.listdir(out) if f.startswith("evsed_") and f.endswith(".deb")]
        assert len(debs) == 1, debs
        cls.deb = os.path.join(out, debs[0])
        cls.tools_deb = os.path.join(out, [f for f in os.listdir(out) if f.startswith("evsed-tools_")][0])
        cls.root = os.path.join(cls.tmp.name, "root")
        r = run("dpkg", "-x", cls.deb, cls.root)
        assert r.returncode == 0, r.stderr

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def test_contents(self):
        listing = run("dpkg-deb", "-c", self.deb).stdout
        # debhelper installs units under /lib on bookworm and under /usr/lib from trixie on.
        self.assertRegex(listing, r"\./(usr/)?lib/systemd/system/evsed\.service")
        for path in ("./usr/sbin/evsed", "./etc/evsed/evsed.toml",
                     "./usr/lib/sysusers.d/evsed.conf", "./usr/share/doc/evsed/README.md",
                     "./usr/share/doc/evsed/installation.md", "./usr/share/doc/evsed/hardware.md",
                     "./usr/share/doc/evsed/rest-api.md", "./usr/share/doc/evsed/examples/evsed.toml",
                     "./usr/share/man/man8/evsed.8.gz", "./usr/share/man/man5/evsed.toml.5.gz",
                     "./usr/share/bash-completion/completions/evsed", "./usr/share/evsed/www/index.html",
                     "./usr/share/evsed/www/app.js", "./usr/share/evsed/www/i18n/de.json"):
            self.assertIn(path, listing)
        self.assertRegex(listing, r"\./(usr/)?lib/udev/rules\.d/60-evsed\.rules")
        # The docs link to each other: not compressed. The test tool is in evsed-tools.
        self.assertNotIn(".md.gz", listing)
        self.assertNotIn("evsed-meter-sim", listing)
        tools = run("dpkg-deb", "-c", self.tools_deb).stdout
        self.assertIn("./usr/bin/evsed-meter-sim", tools)
        self.assertIn("./usr/share/man/man1/evsed-meter-sim.1.gz", tools)

    def test_control(self):
        info = run("dpkg-deb", "-I", self.deb).stdout
        self.assertRegex(info, r"Package: evsed")
        depends = re.search(r"Depends: (.*)", info).group(1)
        # Library package names carry SONAMEs, which differ between Debian releases.
        for lib in (r"libgpiod[23]\b", r"libmodbus5\b", r"libpaho-mqttpp3-1\b", r"libspdlog1\.\d+",
                    r"libsystemd0\b", r"libtomlplusplus3", r"libsqlite3-0\b"):
            self.assertRegex(depends, lib)
        ctrl = os.path.join(self.tmp.name, "ctrl")
        run("dpkg-deb", "-e", self.deb, ctrl)
        with open(os.path.join(ctrl, "conffiles")) as f:
            self.assertIn("/etc/evsed/evsed.toml", f.read())
        with open(os.path.join(ctrl, "postinst")) as f:
            postinst = f.read()
        self.assertIn("systemd-sysusers", postinst)
        self.assertIn("deb-systemd-helper enable 'evsed.service'", postinst)
        self.assertLess(postinst.index("systemd-sysusers"), postinst.index("deb-systemd-invoke"))

    def test_lintian_is_clean(self):
        # Every tag, down to pedantic and info: none without an override that gives its reason.
        r = run("lintian", "--pedantic", "-I", "--fail-on", "error,warning,info,pedantic", self.deb, self.tools_deb)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        tags = [line for line in r.stdout.splitlines() if re.match(r"^[EWIPX]: ", line)]
        self.assertEqual(tags, [])
        for name in ("evsed.lintian-overrides.in", "evsed-tools.lintian-overrides"):
            with open(os.path.join(SOURCE, "debian", name)) as f:
                reason = False
                for line in f:
                    if line.startswith("#"):
                        reason = True
                    elif line.strip():
                        self.assertTrue(reason, f"{name}: {line.strip()} has no comment giving its reason")

    def test_upgrade_scripts_carry_the_short_configuration(self):
        ctrl = os.path.join(self.tmp.name, "ctrl-upgrade")
        run("dpkg-deb", "-e", self.deb, ctrl)
        with open(os.path.join(ctrl, "preinst")) as f:
            preinst = f.read()
        with open(os.path.join(SOURCE, "config", "evsed.toml")) as f:
            short = f.read()
        self.assertIn(short, preinst, "the preinst puts the shipped evsed.toml in place of an edited 0.1 one")
        with open(os.path.join(ctrl, "postrm")) as f:
            self.assertIn("rm -rf /var/lib/evsed", f.read())

    def test_unit_verifies_and_is_hardened(self):
        candidates = [os.path.join(self.root, d, "systemd/system/evsed.service") for d in ("lib", "usr/lib")]
        unit = next((path for path in candidates if os.path.exists(path)), None)
        self.assertIsNotNone(unit, "evsed.service is not in the package")
        with open(unit) as f:
            text = f.read().replace("/usr/sbin/evsed", os.path.join(self.root, "usr/sbin/evsed"))
        copy = os.path.join(self.tmp.name, "evsed.service")
        with open(copy, "w") as f:
            f.write(text)
        r = run("systemd-analyze", "verify", "--man=no", copy)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stderr.strip(), "")
        r = run("systemd-analyze", "security", "--offline=yes", copy)
        level = float(re.search(r"Overall exposure level for evsed.service: ([0-9.]+)", r.stdout).group(1))
        print(f"systemd-analyze security: exposure {level}", file=sys.stderr)
        self.assertLessEqual(level, 1.8, r.stdout)
        for key in ("Type=notify", "WatchdogSec=", "ExecStopPost=", "Restart=on-failure", "User=evsed",
                    "RestartPreventExitStatus=78", "ExecReload=/bin/kill -HUP $MAINPID", "DeviceAllow=char-ttyACM rw",
                    "StateDirectory=evsed", "ConfigurationDirectory=evsed", "AmbientCapabilities=CAP_NET_BIND_SERVICE"):
            self.assertIn(key, text)

    def test_installed_tree(self):
        binary = os.path.join(self.root, "usr/sbin/evsed")
        self.assertTrue(os.access(binary, os.X_OK))
        r = run(binary, "--version")
        self.assertEqual(r.returncode, 0)
        self.assertTrue(r.stdout.startswith("evsed "))
        # The shipped configuration is valid as installed.
        r = run(binary, "--config", os.path.join(self.root, "etc/evsed/evsed.toml"), "--safe-state")
        self.assertEqual(r.returncode, 0, r.stderr)
        with open(os.path.join(self.root, "usr/lib/sysusers.d/evsed.conf")) as f:
            self.assertRegex(f.read(), r"(?m)^u evsed ")


if __name__ == "__main__":
    unittest.main()
