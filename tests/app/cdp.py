"""A small DevTools-protocol client for tests: headless Chromium over ``--remote-debugging-pipe``.

Opens a page, records console errors and uncaught exceptions, and evaluates JavaScript.
Chromium is Debian's ``chromium`` (tools/system-packages.txt), found as the importer finds it.
"""

from __future__ import annotations

import json
import os
import select
import subprocess
import tempfile
import time

from hindsight.importers.render_dom import find_chromium

FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run", "--no-default-browser-check",
         "--disable-extensions", "--mute-audio", "--disable-dev-shm-usage", "--autoplay-policy=no-user-gesture-required")


class Browser:
    """``with Browser() as b: b.open(url); b.evaluate(js)``; ``b.errors`` lists what went wrong."""

    def __init__(self, timeout_s: float = 60.0) -> None:
        exe = find_chromium()
        if exe is None:
            raise RuntimeError("Chromium is not installed (apt-get install chromium)")
        self.timeout_s = timeout_s
        self.errors: list[str] = []
        self._id = 0
        self._buf = b""
        self._profile = tempfile.TemporaryDirectory(prefix="hindsight-cdp-")
        cmd_r, self._w = os.pipe()
        self._r, res_w = os.pipe()

        args = [exe, *FLAGS, "--remote-debugging-pipe", f"--user-data-dir={self._profile.name}", "about:blank"]
        # bash puts our pipe ends on fds 3 (commands in) and 4 (results out), where Chromium expects them
        self._proc = subprocess.Popen(["bash", "-c", f'exec "$0" "$@" 3<&{cmd_r} 4>&{res_w}', *args],
                                      pass_fds=(cmd_r, res_w), stdin=subprocess.DEVNULL,
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        os.close(cmd_r)
        os.close(res_w)
        target = self.call("Target.createTarget", url="about:blank")["targetId"]
        self._session = self.call("Target.attachToTarget", targetId=target, flatten=True)["sessionId"]
        for domain in ("Page", "Runtime", "Log"):
            self.call(f"{domain}.enable", session=True)

    def call(self, method: str, session: bool = False, **params) -> dict:
        self._id += 1
        msg = {"id": self._id, "method": method, "params": params}
        if session:
            msg["sessionId"] = self._session
        os.write(self._w, json.dumps(msg).encode() + b"\0")
        deadline = time.monotonic() + self.timeout_s
        while True:
            reply = self._read(deadline)
            if reply.get("id") == self._id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply.get("result", {})
            self._event(reply)

    def _read(self, deadline: float) -> dict:
        while b"\0" not in self._buf:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("Chromium did not answer in time")
            if select.select([self._r], [], [], left)[0]:
                chunk = os.read(self._r, 1 << 20)
                if not chunk:
                    raise RuntimeError("Chromium closed the DevTools pipe")
                self._buf += chunk
        raw, self._buf = self._buf.split(b"\0", 1)
        return json.loads(raw)

    def _event(self, msg: dict) -> None:
        method, p = msg.get("method"), msg.get("params", {})
        if method == "Runtime.exceptionThrown":
            d = p.get("exceptionDetails", {})
            self.errors.append(f"exception: {d.get('text')} {d.get('exception', {}).get('description', '')}")
        elif method == "Runtime.consoleAPICalled" and p.get("type") in ("error", "assert"):
            self.errors.append("console: " + " ".join(str(a.get("value", a.get("description"))) for a in p["args"]))
        elif method == "Log.entryAdded" and p.get("entry", {}).get("level") == "error":
            self.errors.append(f"log: {p['entry'].get('text')} {p['entry'].get('url', '')}")

    def open(self, url: str) -> None:
        self.call("Page.navigate", session=True, url=url)
        self.evaluate("new Promise(r => document.readyState === 'complete' ? r(1) : "
                      "addEventListener('load', () => r(1)))")

    def evaluate(self, expression: str):
        res = self.call("Runtime.evaluate", session=True, expression=expression, awaitPromise=True,
                        returnByValue=True)
        if "exceptionDetails" in res:
            raise RuntimeError(f"script failed: {res['exceptionDetails']}")
        return res["result"].get("value")

    def close(self) -> None:
        try:
            self.call("Browser.close")
            self._proc.wait(timeout=5)
        except Exception:  # noqa: BLE001 - make sure it is gone
            self._proc.kill()
            self._proc.wait()
        for fd in (self._w, self._r):
            try:
                os.close(fd)
            except OSError:
                pass
        self._profile.cleanup()

    def __enter__(self) -> "Browser":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
