"""The sealed kernel of `nncourse grade`: student code that knows where the doors are reaches
no Unix socket of the machine, no dotfile of the grading user's home and no secret of its
environment, and leaves a live PostgreSQL gradebook as grading made it.

The class of `sealed`: lesson 01 of ada (complete) once per door of
tests/fixtures/robustness.py (DOORS: her notebook with the door's code appended), and cleo's
(partly done) untouched, a classmate whose grades a rewritten gradebook would change. It is
graded by `nncourse grade` in a process of its own, as an instructor runs it (a grading
process's workers and kernels start from the environment it was started with), into a
database of the test suite's PostgreSQL server (tests/postgres_server.py: a socket in a folder
of its own under /tmp and one under /run, where any local process gets in without a password),
by a grading user who has
- PG* variables, DATABASE_URL, a *_TOKEN, a *_KEY, AWS_SECRET_ACCESS_KEY and SSH_AUTH_SOCK;
- a HOME with .pgpass (the server's password over TCP), .ssh/id_rsa, .config/gh/hosts.yml and
  an ssh agent's listening socket; and the home /etc/passwd gives it, with its own dotfiles;
while the test listens on Unix sockets under /run (when writable) and under /tmp.
Expected grades are examples/expected_grades.json's: ada's for each door, cleo's for cleo.
"""

import ast
import json
import os
import pwd
import runpy
import shutil
import socket
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path

import pytest

from nncourse.course import ROOT, notebook_path
from nncourse.grading.sandbox import SandboxedKernelManager, bubblewrap

CLASS = ROOT / "examples" / "class"
EXPECTED = json.loads((ROOT / "examples" / "expected_grades.json").read_text())
ROBUSTNESS = runpy.run_path(str(ROOT / "tests" / "fixtures" / "robustness.py"))
DOORS, LESSON = ROBUSTNESS["DOORS"], ROBUSTNESS["LESSON"]
NNCOURSE = [str(Path(sys.executable).parent / "nncourse")]  # as the README runs it
SECRETS = {"GITHUB_TOKEN": "ghp_not-a-real-token", "OPENAI_API_KEY": "sk-not-a-real-key",
           "AWS_SECRET_ACCESS_KEY": "not-a-real-aws-secret"}

pytestmark = pytest.mark.grading


def listening(path):
    """A Unix socket listening at path (connections are queued, never accepted)."""
    server = socket.socket(socket.AF_UNIX)
    server.bind(str(path))
    server.listen()
    return server


def dotfiles(home):
    """The dotfiles of `home`, but those on the way to this Python's installation (e.g.
    /root/.pyenv for /root/.pyenv/versions/3.11.7), which a kernel must see."""
    python = [Path(sys.base_prefix).resolve(), Path(sys.prefix).resolve()]
    home = Path(home)
    return sorted(str(path) for path in (home.iterdir() if home.is_dir() else [])
                  if path.name.startswith(".")
                  and not any(p.is_relative_to(path.resolve()) for p in python))


def grading_home():
    """A home for the grading user with the secrets it typically holds; not under /tmp (which
    kernels never saw): homes are elsewhere."""
    home = Path(tempfile.mkdtemp(prefix="nncourse-test-home-", dir="/var/tmp"))
    (home / ".ssh").mkdir(mode=0o700)
    (home / ".ssh" / "id_rsa").write_text("-----BEGIN OPENSSH PRIVATE KEY-----\nnot real\n")
    (home / ".config" / "gh").mkdir(parents=True)
    (home / ".config" / "gh" / "hosts.yml").write_text(
        f"github.com:\n    oauth_token: {SECRETS['GITHUB_TOKEN']}\n")
    return home


@pytest.fixture(scope="module")
def sealed(postgres, tmp_path_factory):
    """Grade the class (see the module docstring); return (OUT, the gradebook's database)."""
    import nbformat

    assert bubblewrap(), "bubblewrap is required for the sandbox (make test installs it)"
    tmp = tmp_path_factory.mktemp("sealed")
    submissions, out = tmp / "submissions", tmp / "out"
    database = "sealed_kernel"
    url = postgres.new_database(database)
    home = grading_home()
    pgpass = home / ".pgpass"
    pgpass.write_text(f"127.0.0.1:{postgres.port}:*:{postgres.user}:{postgres.password}\n")
    pgpass.chmod(0o600)
    sockets = [home / ".ssh" / "agent.sock", tmp / "listener.sock"]
    if os.access("/run", os.W_OK):
        sockets.append(Path(f"/run/nncourse-test-{uuid.uuid4().hex[:12]}.sock"))
    listeners = [listening(path) for path in sockets]
    environment = {**os.environ, **SECRETS, "HOME": str(home),
                   "SSH_AUTH_SOCK": str(sockets[0]), "DATABASE_URL": postgres.tcp_url(database),
                   "PGHOST": "127.0.0.1", "PGPORT": str(postgres.port), "PGUSER": postgres.user,
                   "PGPASSWORD": postgres.password, "PGDATABASE": database}
    ctx = {"pg_socket_dirs": [d for d in (postgres.socket_dir, postgres.run_socket_dir) if d],
           "pg_port": postgres.port, "pg_user": postgres.user, "database": database,
           "home": home, "sockets": [str(path) for path in sockets],
           "dotfiles": dotfiles(home) + dotfiles(pwd.getpwuid(os.getuid()).pw_dir),
           "secrets": [postgres.password, *SECRETS.values()]}
    try:
        for case in DOORS:
            notebook = nbformat.read(notebook_path(CLASS / "ada", LESSON), as_version=4)
            case["edit"](notebook, ctx)
            path = notebook_path(submissions / case["name"], LESSON)
            path.parent.mkdir(parents=True)
            nbformat.write(notebook, path)
        shutil.copytree(CLASS / "cleo" / LESSON, submissions / "cleo" / LESSON)
        # 60 s a cell: the socket door walks the whole file system it sees
        done = subprocess.run([*NNCOURSE, "grade", str(submissions), "--out", str(out),
                               "--db-url", url, "--lesson", LESSON, "--jobs", "2",
                               "--timeout", "60", "--memory-mb", "1500"],
                              env=environment, capture_output=True, text=True)
        assert done.returncode == 0, done.stdout + done.stderr
        yield out, database
    finally:
        for listener in listeners:
            listener.close()
        for path in sockets:
            path.unlink(missing_ok=True)
        shutil.rmtree(home, ignore_errors=True)


@pytest.mark.parametrize("door", [case["name"] for case in DOORS])
def test_student_code_reaches_no_door(door, sealed):
    import nbformat

    out, _ = sealed
    notebook = nbformat.read(notebook_path(out / "course" / "autograded" / door, LESSON), 4)
    printed = "".join(o.get("text", "") for c in notebook.cells for o in c.get("outputs", []))
    line = next(line for line in printed.splitlines() if line.startswith("SNOOP"))
    seen = ast.literal_eval(line.removeprefix("SNOOP "))  # the student's dict of findings
    assert seen and not any(seen.values()), f"student code reached: {seen}"


def test_each_door_scores_as_honest_work_and_the_gradebook_is_untouched(sealed, postgres):
    """Each door's notebook gets ada's grades, unflagged, and cleo hers, in the PostgreSQL
    gradebook; it holds no trigger or function of a student's."""
    from nncourse.grading import nbgrader

    out, database = sealed
    honest = {**{case["name"]: EXPECTED["ada"][LESSON] for case in DOORS},
              "cleo": EXPECTED["cleo"][LESSON]}
    scores = nbgrader.class_scores(postgres.socket_url(database),
                                   [(student, LESSON) for student in honest])
    got = {student: {g: s for g, (s, _) in scores[(student, LESSON)].items()}
           for student in honest}
    assert got == honest, {student: {g: (honest[student][g], s) for g, s in cells.items()
                                     if s != honest[student][g]} for student, cells in got.items()}
    assert postgres.psql("SELECT tgname FROM pg_trigger WHERE NOT tgisinternal",
                         database) == []
    assert postgres.psql("SELECT proname FROM pg_proc JOIN pg_namespace n ON "
                         "n.oid = pronamespace WHERE nspname = 'public'", database) == []
    assert (out / "flags.csv").read_text().count("\n") == 1  # its header only


def run_in_kernel(code, **traits):
    """What `code` prints on a SandboxedKernelManager(**traits) kernel in the current folder."""
    from nbclient import NotebookClient
    from nbformat.v4 import new_code_cell, new_notebook

    notebook = new_notebook(cells=[new_code_cell(code)])
    NotebookClient(notebook, km=SandboxedKernelManager(**traits), timeout=60).execute()
    return "".join(o.get("text", "") for o in notebook.cells[0].outputs)


def test_without_bubblewrap_the_kernel_still_gets_no_secret(tmp_path, monkeypatch):
    """On a machine without bubblewrap (a PATH with prlimit and no bwrap) the kernel's
    environment is still the allowlist's (the locale and TensorFlow's setting kept; the
    grading user's secrets and HOME not)."""
    (tmp_path / "bin").mkdir()
    (tmp_path / "bin" / "prlimit").symlink_to(shutil.which("prlimit"))
    home = grading_home()
    monkeypatch.chdir(tmp_path)
    for name, value in {**SECRETS, "PATH": str(tmp_path / "bin"), "HOME": str(home),
                        "PGPASSWORD": "not-a-real-password", "DATABASE_URL": "postgresql:///x",
                        "LANG": "C.UTF-8", "TF_CPP_MIN_LOG_LEVEL": "3"}.items():
        monkeypatch.setenv(name, value)
    assert bubblewrap() is None
    try:
        printed = run_in_kernel("import os; print(repr(dict(os.environ)))")
    finally:
        shutil.rmtree(home, ignore_errors=True)
    environment = ast.literal_eval(printed)
    assert not {*SECRETS, "PGPASSWORD", "DATABASE_URL"} & set(environment), environment
    assert environment["HOME"] != str(home)
    assert environment["LANG"] == "C.UTF-8" and environment["TF_CPP_MIN_LOG_LEVEL"] == "3"


def test_folders_this_machine_lacks_are_skipped_and_the_packages_found(tmp_path, monkeypatch):
    """A Dask worker may be handed hidden and readable folders of another machine: those this
    one lacks do not stop the kernel, which still imports nnlib (found where this Python
    imports it, not from `readable`); a hidden folder inside a visible one is empty."""
    monkeypatch.chdir(tmp_path)
    share = os.path.join(sys.prefix, "share")  # inside the (visible) Python installation
    printed = run_in_kernel(
        f"import os, nnlib; print(repr((nnlib.__file__, os.listdir({share!r}))))",
        hidden=["/nonexistent/course", share], readable=["/nonexistent/course/nnlib"])
    imported, listed = ast.literal_eval(printed)
    assert imported == str(ROOT / "nnlib" / "__init__.py") and listed == []
