"""JupyterLab as the course starts it: `nncourse lab` for learners, and the server under
`nncourse formgrader` for instructors.

Both run JupyterLab from this Python's environment by its path, with the environment's bin
folder first on PATH: Jupyter starts its kernels and nbgrader its `alembic` command by name, so
nothing needs the environment activated. Their JupyterLab settings start from
`jupyter/settings/overrides.json`: they neither ask on first open whether to fetch Jupyter's
news from the internet nor check for updates (the course pins its versions).

A learner's JupyterLab keeps one part of nbgrader, the Validate button. Formgrader and the
"Create Assignment" cell toolbar are an instructor's; the Assignment List and the Course List
work through nbgrader's exchange, a shared folder this course does not use (lessons come in the
repository), and only report that it is missing. The configuration in `jupyter/learner/`
switches them off, given to Jupyter by JUPYTER_CONFIG_PATH for this server alone: the same
environment still serves formgrader under `nncourse formgrader`.
"""

import os
import sys
from pathlib import Path
from typing import NamedTuple

JUPYTER = Path(__file__).resolve().parent / "jupyter"


class Server(NamedTuple):
    """How to start a JupyterLab server: its command line, environment and working folder."""
    argv: list
    env: dict
    cwd: Path


def server(root, *, ip="127.0.0.1", port=8888, open_browser=True, learner=True):
    """The Server of JupyterLab serving the folder `root` (the file browser's top).

    port: the one asked for; a learner's server moves to the next free port when it is taken,
    an instructor's fails clearly (the TAs were given the address).
    """
    root = Path(root).resolve()
    argv = [sys.executable, "-m", "jupyterlab", f"--ServerApp.root_dir={root}",
            f"--ServerApp.ip={ip}", f"--ServerApp.port={port}",
            f"--ServerApp.open_browser={open_browser}",
            # Jupyter refuses to run as root unless told; whoever runs it as root (in a
            # container, on a CI machine) has chosen to
            f"--ServerApp.allow_root={os.geteuid() == 0}",
            f"--LabApp.app_settings_dir={JUPYTER / 'settings'}"]
    if not learner:
        argv.append("--ServerApp.port_retries=0")
    env = dict(os.environ)
    env["PATH"] = os.pathsep.join(filter(None, [str(Path(sys.executable).parent),
                                                env.get("PATH")]))
    if learner:
        env["JUPYTER_CONFIG_PATH"] = os.pathsep.join(
            filter(None, [str(JUPYTER / "learner"), env.get("JUPYTER_CONFIG_PATH")]))
    return Server(argv, env, root)


def run(server):
    """Replace this process by the server (Ctrl-C stops it)."""
    os.chdir(server.cwd)  # nbgrader reads nbgrader_config.py from the working folder
    os.execve(server.argv[0], server.argv, server.env)
