"""Starts the real evsed binary for integration tests.

Readiness comes over a real sd_notify socket (NOTIFY_SOCKET), as under systemd;
stderr is collected so tests can read the log.
"""

import json
import os
import signal
import socket
import subprocess
import tempfile
import threading
import time

BINARY = os.environ.get("EVSED_BINARY", os.path.join(os.path.dirname(__file__), "..", "..", "build", "evsed"))


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Evsed:
    """One evsed process with its own temporary state directory."""

    def __init__(self, *args, state_dir=None, config_text=None, env=None, simulate=True):
        self.tmp = tempfile.TemporaryDirectory(prefix="evsed-test-")
        self.state_dir = state_dir or os.path.join(self.tmp.name, "state")
        os.makedirs(self.state_dir, exist_ok=True)
        self.port = free_port()
        self.notify_path = os.path.join(self.tmp.name, "notify.sock")
        self.notify = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.notify.bind(self.notify_path)
        self.notify.settimeout(0.2)
        self.notifications = []
        cmd = [BINARY, "--state-dir", self.state_dir, "--listen", f"127.0.0.1:{self.port}"]
        if simulate:
            cmd.append("--simulate")
        if config_text is not None:
            path = os.path.join(self.tmp.name, "evsed.toml")
            with open(path, "w") as f:
                f.write(config_text)
            cmd += ["--config", path]
        else:
            cmd += ["--config", os.path.join(self.tmp.name, "none.toml")]
            with open(cmd[-1], "w") as f:
                f.write("")
        # EVSED_TEST_AUTH=open: the same tests against [http] auth = "open" with
        # nothing trusted (a drop-in, merged key by key over the test's own file).
        if os.environ.get("EVSED_TEST_AUTH"):
            dropins = cmd[-1] + ".d"
            os.makedirs(dropins, exist_ok=True)
            with open(os.path.join(dropins, "99-auth.toml"), "w") as f:
                f.write(f'[http]\nauth = "{os.environ["EVSED_TEST_AUTH"]}"\ntrusted_networks = []\n')
        cmd += list(args)
        full_env = dict(os.environ)
        full_env.pop("JOURNAL_STREAM", None)
        full_env["NOTIFY_SOCKET"] = self.notify_path
        full_env.update(env or {})
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=full_env, text=True)
        self._log = []
        self._reader = threading.Thread(target=self._read_stderr, daemon=True)
        self._reader.start()

    def _read_stderr(self):
        for line in self.proc.stderr:
            self._log.append(line.rstrip("\n"))

    @property
    def log(self):
        return list(self._log)

    @property
    def settings_path(self):
        return os.path.join(self.state_dir, "settings.json")

    def read_notifications(self, timeout):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                msg = self.notify.recv(4096).decode()
                self.notifications.extend(msg.split("\n"))
                return
            except socket.timeout:
                if self.proc.poll() is not None:
                    return

    def wait_for_notification(self, text, timeout=10.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if text in self.notifications:
                return True
            if self.proc.poll() is not None:
                return False
            self.read_notifications(0.3)
        return text in self.notifications

    def wait_ready(self, timeout=10.0):
        if not self.wait_for_notification("READY=1", timeout):
            raise AssertionError("evsed did not become ready; log:\n" + "\n".join(self.log))
        mode = os.environ.get("EVSED_TEST_AUTH")
        if mode and not self.wait_log(f'auth: mode "{mode}"', 2):
            raise AssertionError(f"EVSED_TEST_AUTH={mode} is not in force; log:\n" + "\n".join(self.log))

    def wait_log(self, text, timeout=10.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if any(text in line for line in self._log):
                return True
            time.sleep(0.05)
        return False

    def stop(self, sig=signal.SIGTERM, timeout=5.0):
        """Sends `sig`; returns (exit code, seconds it took)."""
        start = time.monotonic()
        self.proc.send_signal(sig)
        rc = self.proc.wait(timeout=timeout)
        elapsed = time.monotonic() - start
        self._reader.join(timeout=2)
        return rc, elapsed

    def wait_exit(self, timeout=10.0):
        rc = self.proc.wait(timeout=timeout)
        self._reader.join(timeout=2)
        return rc

    def close(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self._reader.join(timeout=2)
        for stream in (self.proc.stdout, self.proc.stderr):
            if stream:
                stream.close()
        self.notify.close()
        self.tmp.cleanup()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def read_json(path):
    with open(path) as f:
        return json.load(f)


class Http:
    """Plain HTTP/1.1 against one evsed; a new connection per request unless `conn` is given."""

    def __init__(self, port, host="127.0.0.1"):
        self.host = host
        self.port = port

    def request(self, method, path, body=None, headers=None, conn=None):
        import http.client

        own = conn is None
        c = conn or http.client.HTTPConnection(self.host, self.port, timeout=10)
        try:
            c.request(method, path, body=body, headers=headers or {})
            r = c.getresponse()
            data = r.read().decode()
            return Reply(r.status, data, dict(r.getheaders()))
        finally:
            if own:
                c.close()

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def post(self, path, body=None, **kw):
        return self.request("POST", path, body=body, **kw)

    def settings(self):
        r = self.get("/settings")
        assert r.status == 200, r
        return r.json()


class Reply:
    def __init__(self, status, text, headers):
        self.status = status
        self.text = text
        self.headers = headers

    def json(self):
        return json.loads(self.text)

    def __repr__(self):
        return f"Reply({self.status}, {self.text[:300]!r})"


def wait_until(predicate, timeout=10.0, interval=0.1):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    return predicate()


TOOLS = os.path.dirname(BINARY)
METER_SIM = os.environ.get("EVSED_METER_SIM", os.path.join(TOOLS, "evsed-meter-sim"))


class PtyBus:
    """An RS-485 bus made of a socat pty pair: evsed on one end, meters on the other."""

    def __init__(self, directory):
        self.evse = os.path.join(directory, "ttyEVSE")
        self.meter = os.path.join(directory, "ttyMETER")
        self.proc = None
        self.start()

    def start(self):
        self.proc = subprocess.Popen(
            ["socat", "-d", "-d", f"pty,raw,echo=0,link={self.evse}", f"pty,raw,echo=0,link={self.meter}"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        if not wait_until(lambda: os.path.exists(self.evse) and os.path.exists(self.meter), 5, 0.02):
            raise AssertionError("socat did not create the pty pair")

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait()
        wait_until(lambda: not os.path.exists(self.evse), 5, 0.02)

    def close(self):
        self.stop()


class MeterSim:
    """evsed-meter-sim on the meter end of a PtyBus, driven through its stdin."""

    def __init__(self, device, *meters, extra=()):
        cmd = [METER_SIM, "--device", device]
        for m in meters:
            cmd += ["--meter", m]
        cmd += list(extra)
        self.proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     text=True, bufsize=1)
        line = self.proc.stdout.readline().strip()
        if line != "ready":
            raise AssertionError(f"evsed-meter-sim did not start: {line} {self.proc.stderr.read()}")

    def command(self, line):
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()
        answer = self.proc.stdout.readline().strip()
        if not answer.startswith("ok"):
            raise AssertionError(f"{line}: {answer}")
        return answer

    def close(self):
        if self.proc.poll() is None:
            try:
                self.proc.stdin.write("quit\n")
                self.proc.stdin.flush()
                self.proc.wait(timeout=3)
            except (BrokenPipeError, subprocess.TimeoutExpired):
                self.proc.kill()
                self.proc.wait()
        for stream in (self.proc.stdin, self.proc.stdout, self.proc.stderr):
            stream.close()
