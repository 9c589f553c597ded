"""Real Jupyter servers for the tests, started by the course's own commands as a user runs them.

`nncourse lab` (a learner) and `nncourse formgrader` (an instructor) are started as the
programs installed in the virtual environment, with its bin folder *not* on PATH: as
`.venv/bin/nncourse` runs for someone who did not activate the environment. Each server has a
fresh Jupyter configuration and settings folder, as on a learner's first day, and a token.
"""

import contextlib
import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TOKEN = "course-test-token"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def api(port, path, put=None, method=None):
    """The server's JSON answer to GET path (or PUT of the JSON body `put`, or `method`)."""
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}{path}", method=method or ("GET" if put is None else "PUT"),
        data=None if put is None else json.dumps(put).encode(),
        headers={"Authorization": f"token {TOKEN}", "Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as response:
        body = response.read()
    return json.loads(body) if body else None


@contextlib.contextmanager
def nncourse_server(*arguments, home, ready):
    """`nncourse ARGUMENTS --port P --no-browser` running; yields (port, its output so far).

    home: an empty folder for the user's home and Jupyter's settings; ready: an API path that
    answers once the server is up.
    """
    port = free_port()
    command = [str(Path(sys.executable).parent / "nncourse"), *map(str, arguments),
               "--port", str(port), "--no-browser"]
    environment = {"PATH": "/usr/bin:/bin", "HOME": str(home), "JUPYTER_TOKEN": TOKEN,
                   "JUPYTER_CONFIG_DIR": str(Path(home) / ".jupyter"),
                   "JUPYTER_DATA_DIR": str(Path(home) / ".local" / "share" / "jupyter"),
                   "JUPYTER_RUNTIME_DIR": str(Path(home) / "runtime"),
                   **{k: v for k, v in os.environ.items()
                      if k in ("PYTHONPATH", "MPLBACKEND", "TF_CPP_MIN_LOG_LEVEL",
                               "TF_ENABLE_ONEDNN_OPTS")}}
    log = Path(home) / f"server-{port}.log"
    with open(log, "w") as sink:
        process = subprocess.Popen(command, env=environment, stdout=sink,
                                   stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                api(port, ready)
                break
            except (urllib.error.URLError, ConnectionError):
                if process.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError(f"no server:\n{log.read_text()}") from None
                time.sleep(0.5)
        yield port, log.read_text
    finally:
        with contextlib.suppress(urllib.error.URLError, ConnectionError):
            shut_down_kernels(port)
        process.terminate()
        process.wait(timeout=30)


def formgrader(out, home):
    """`nncourse formgrader OUT` running; yields (port, its output so far)."""
    return nncourse_server("formgrader", out, home=home, ready="/formgrader/api/status")


def lab(folder, home):
    """`nncourse lab FOLDER` running; yields (port, its output so far)."""
    return nncourse_server("lab", folder, home=home, ready="/api/status")


def shut_down_kernels(port):
    """Shut down the server's kernels (they outlive the browser tabs that started them)."""
    for session in api(port, "/api/sessions"):
        api(port, f"/api/sessions/{session['id']}", method="DELETE")
