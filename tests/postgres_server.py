"""A real PostgreSQL server of the tests' own: `initdb` and `pg_ctl` in a temporary folder.

The server listens on a Unix socket in a folder of its own (and, on request, also in a folder
under /run, where Debian puts the sockets real users connect to) and on 127.0.0.1 on a free
port. Its one role, `grader`, is a superuser with a password:

- on the Unix socket, `trust`: any local process that reaches the socket gets in, as with
  Debian's `local all all peer` for a process running as the role's user (the door a student's
  notebook used in issue 16);
- over TCP, scram-sha-256: the password is required.

As root, initdb and the server run as `nobody` (initdb refuses to run as root), so every folder
they use is created here and handed to that user.
"""

import contextlib
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import uuid
from pathlib import Path

USER = "grader"
PASSWORD = "course-test-password"
UNPRIVILEGED = "nobody"
MISSING = ("PostgreSQL's initdb and pg_ctl were not found (Debian/Ubuntu: apt-get install "
           "postgresql, which `make test` does when run as root)")


def binaries():
    """The folder holding initdb and pg_ctl: Debian's newest /usr/lib/postgresql/<version>/bin,
    else the one on PATH; None when there is none."""
    debian = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"),
                    key=lambda path: int(path.parts[-3]) if path.parts[-3].isdigit() else 0)
    if debian:
        return debian[-1].parent
    initdb = shutil.which("initdb")
    if initdb and shutil.which("pg_ctl", path=str(Path(initdb).parent)):
        return Path(initdb).parent
    return None


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """A running server: where it listens, its role, and fresh databases for the tests."""

    def __init__(self, socket_dir, port, run_socket_dir, log):
        self.socket_dir = socket_dir  # the socket folder of its own (a str)
        self.run_socket_dir = run_socket_dir  # the same server's socket under /run, or None
        self.port = port
        self.user = USER
        self.password = PASSWORD
        self.log = log  # the server's log file

    def socket_url(self, database):
        """SQLAlchemy's URL of `database` through the Unix socket (no password needed)."""
        return f"postgresql://{self.user}@/{database}?host={self.socket_dir}&port={self.port}"

    def tcp_url(self, database):
        """SQLAlchemy's URL of `database` over TCP on 127.0.0.1, with the password."""
        return f"postgresql://{self.user}:{self.password}@127.0.0.1:{self.port}/{database}"

    def new_database(self, name):
        """A fresh empty database `name` (dropped first if it exists); its socket URL."""
        self.psql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        self.psql(f'CREATE DATABASE "{name}"')
        return self.socket_url(name)

    def connect(self, database="postgres", autocommit=False):
        """A psycopg connection to `database` through the Unix socket."""
        import psycopg
        return psycopg.connect(host=self.socket_dir, port=self.port, user=self.user,
                               dbname=database, autocommit=autocommit)

    def psql(self, sql, database="postgres", parameters=None):
        """Run one SQL statement in `database` (autocommit); its rows, or None."""
        with self.connect(database, autocommit=True) as connection:
            cursor = connection.execute(sql, parameters)
            return cursor.fetchall() if cursor.description else None


def _as_unprivileged(command):
    """`command` run as `nobody` when we are root (initdb and postgres refuse root)."""
    if os.geteuid() != 0:
        return command
    runuser = shutil.which("runuser") or shutil.which("runuser", path="/usr/sbin:/sbin")
    return [runuser or "runuser", "-u", UNPRIVILEGED, "--", *command]


def _hand_over(path):
    """Make `path` ours to hand to the server's user: owned by it when we are root."""
    if os.geteuid() == 0:
        user = pwd.getpwnam(UNPRIVILEGED)
        os.chown(path, user.pw_uid, user.pw_gid)


@contextlib.contextmanager
def postgres_server(run_socket=False):
    """A started PostgreSQL server (a Server); stopped and its folders removed at the end.

    run_socket: also put its socket in /run/nncourse-test-postgresql-<random> (when /run is
    writable; else `run_socket_dir` is None), where Debian's real sockets live.
    Raises RuntimeError with the reason (and the server's log) when it does not start.
    """
    bin_dir = binaries()
    if bin_dir is None:
        raise RuntimeError(MISSING)
    # Traversable by everyone (0755): a socket must be reachable by any local process, as
    # Debian's /var/run/postgresql is; the data folder inside is initdb's own, mode 0700.
    base = Path(tempfile.mkdtemp(prefix="nncourse-test-postgresql-"))
    folders = [base]
    # A clean environment: no PG* variable of ours may point initdb or pg_ctl elsewhere.
    environment = {"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8", "HOME": str(base)}
    started = False
    try:
        base.chmod(0o755)
        socket_dir = base / "socket"
        socket_dir.mkdir(mode=0o755)
        password_file = base / "password"
        password_file.write_text(PASSWORD + "\n")
        for path in (base, socket_dir, password_file):
            _hand_over(path)
        socket_dirs = [str(socket_dir)]
        run_socket_dir = None
        if run_socket and os.access("/run", os.W_OK):
            run_socket_dir = Path(f"/run/nncourse-test-postgresql-{uuid.uuid4().hex[:12]}")
            run_socket_dir.mkdir(mode=0o755)
            folders.append(run_socket_dir)
            _hand_over(run_socket_dir)
            socket_dirs.append(str(run_socket_dir))
        data, log = base / "data", base / "server.log"
        _run([str(bin_dir / "initdb"), "--pgdata", str(data), "--username", USER,
              "--pwfile", str(password_file), "--auth-local", "trust",
              "--auth-host", "scram-sha-256", "--encoding", "UTF8", "--locale", "C.UTF-8",
              "--no-sync"], environment)
        port = free_port()
        # A throw-away server: durability is not needed, speed is.
        with open(data / "postgresql.conf", "a") as conf:
            conf.write(f"\nlisten_addresses = '127.0.0.1'\nport = {port}\n"
                       f"unix_socket_directories = '{','.join(socket_dirs)}'\n"
                       "fsync = off\nsynchronous_commit = off\nfull_page_writes = off\n")
        started = True
        _run([str(bin_dir / "pg_ctl"), "start", "--wait", "--pgdata", str(data), "--log",
              str(log)], environment, log)
        yield Server(str(socket_dir), port, run_socket_dir and str(run_socket_dir), log)
    finally:
        if started:
            subprocess.run(_as_unprivileged(
                [str(bin_dir / "pg_ctl"), "stop", "--pgdata", str(data), "--mode", "fast"]),
                env=environment, cwd=base, capture_output=True)
        for folder in folders:
            shutil.rmtree(folder, ignore_errors=True)


def _run(command, environment, log=None):
    """Run an initdb/pg_ctl `command` as the server's user; RuntimeError with its output."""
    done = subprocess.run(_as_unprivileged(command), env=environment, cwd=environment["HOME"],
                          capture_output=True, text=True)
    if done.returncode:
        server_log = log.read_text() if log and log.exists() else ""
        raise RuntimeError(f"PostgreSQL did not start: {Path(command[0]).name} said "
                           f"{(done.stdout + done.stderr).strip()}\n{server_log}")
