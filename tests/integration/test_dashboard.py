"""The dashboard's server side over the real binary: the files at / (gzip,
ETag, 304, nothing else from disk), and GET /events with fifty browsers
watching at once."""

import gzip
import http.client as httpclient
import json
import socket
import time
import unittest

from evsed_harness import Evsed, Http, wait_until


def header(reply, name):
    return {k.lower(): v for k, v in reply.headers.items()}.get(name.lower())


class StaticFilesTest(unittest.TestCase):
    def test_files_compressed_tagged_and_revalidated(self):
        with Evsed() as evsed:
            evsed.wait_ready()
            self.assertTrue(evsed.wait_log("dashboard: ", 2), evsed.log)
            http = Http(evsed.port)
            page = http.get("/")
            self.assertEqual(page.status, 200)
            self.assertIn("<title>evsed</title>", page.text)
            self.assertIn("default-src 'self'", header(page, "content-security-policy"))
            c = httpclient.HTTPConnection("127.0.0.1", evsed.port, timeout=5)
            c.request("GET", "/app.js", headers={"Accept-Encoding": "gzip"})
            r = c.getresponse()
            body = r.read()
            self.assertEqual(r.getheader("Content-Encoding"), "gzip")
            self.assertTrue(r.getheader("Content-Type").startswith("text/javascript"))
            text = gzip.decompress(body).decode()
            self.assertIn("EventSource", text)
            etag = r.getheader("ETag")
            c.request("GET", "/app.js", headers={"Accept-Encoding": "gzip", "If-None-Match": etag})
            r = c.getresponse()
            r.read()
            self.assertEqual(r.status, 304)
            c.close()
            for path in ("/../../etc/passwd", "/%2e%2e/%2e%2e/etc/passwd", "/i18n/../../../etc/passwd", "/www/index.html",
                         "/index.html/.", "/nonexistent.js"):
                self.assertEqual(http.get(path).status, 404, path)
            self.assertEqual(http.post("/").status, 404, "POST / is not a file")

    def test_a_missing_dashboard_says_so(self):
        with Evsed(config_text='[http]\nwww_root = "/nonexistent/www"\n') as evsed:
            evsed.wait_ready()
            self.assertTrue(evsed.wait_log("dashboard: /nonexistent/www", 2), evsed.log)
            r = Http(evsed.port).get("/")
            self.assertEqual(r.status, 404)
            self.assertIn("dashboard is not installed", r.text)
            self.assertEqual(Http(evsed.port).get("/settings").status, 200)


def open_stream(port):
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    s.sendall(f"GET /events HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nAccept: text/event-stream\r\n\r\n".encode())
    return s


class Stream:
    def __init__(self, port):
        self.sock = open_stream(port)
        self.buffer = b""

    def frames(self, timeout):
        """Reads what is there within `timeout`; returns the complete settings snapshots."""
        self.sock.settimeout(0.05)
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            try:
                chunk = self.sock.recv(65536)
                if not chunk:
                    break
                self.buffer += chunk
            except socket.timeout:
                if b"\n\n" in self.buffer:
                    break
        out = []
        while b"\n\n" in self.buffer:
            frame, self.buffer = self.buffer.split(b"\n\n", 1)
            lines = frame.decode().split("\n")
            if "event: settings" in lines:
                data = "\n".join(l[6:] for l in lines if l.startswith("data: "))
                out.append(json.loads(data))
        return out

    def close(self):
        self.sock.close()


class EventsTest(unittest.TestCase):
    def test_fifty_watchers_each_get_the_snapshot_and_every_change(self):
        with Evsed() as evsed:
            evsed.wait_ready()
            http = Http(evsed.port)
            streams = [Stream(evsed.port) for _ in range(50)]
            try:
                head = streams[0].sock.recv(4096, socket.MSG_PEEK).decode(errors="replace")
                self.assertTrue(head.startswith("HTTP/1.1 200"), head)
                self.assertIn("text/event-stream", head)
                for s in streams:
                    first = []
                    end = time.monotonic() + 5
                    while not first and time.monotonic() < end:
                        first = s.frames(0.5)
                    self.assertTrue(first, "no snapshot on connect")
                    self.assertFalse(first[0]["car_connected"])
                http.post("/simulator?ev=B")
                for s in streams:
                    seen = []
                    end = time.monotonic() + 5
                    while time.monotonic() < end and not any(f["car_connected"] for f in seen):
                        seen += s.frames(0.3)
                    self.assertTrue(any(f["car_connected"] for f in seen), "a watcher missed the plug-in")
                self.assertLessEqual(http.settings()["evsed"]["loop"]["pilot_lag_max_ms"], 50,
                                     "fifty streams must not hold up the pilot loop")
            finally:
                for s in streams:
                    s.close()
            # All gone: evsed answers as before and forgets them.
            self.assertTrue(wait_until(lambda: http.get("/settings").status == 200, 3))
            http.post("/simulator?ev=A")
            self.assertTrue(wait_until(lambda: http.settings()["evse"]["state_id"] == 0, 5))

    def test_events_takes_no_writes(self):
        with Evsed() as evsed:
            evsed.wait_ready()
            self.assertEqual(Http(evsed.port).post("/events").status, 405)


if __name__ == "__main__":
    unittest.main()
