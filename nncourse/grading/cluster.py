"""Grading on a Dask cluster: `nncourse grade ... --cluster local:N` or `--scheduler ADDRESS`.

Each submission is a self-contained task: what it needs goes in (its lesson's released and
source notebooks and the template gradebook, sent once to the cluster and shared by the tasks,
and the submission's bytes), and what grading made comes out (scores, flags, comments, the
repaired and the autograded notebook's files, nbgrader's log if it failed). A task grades in a
temporary folder of the worker's own, laid out as the grading folder OUT is on this machine,
with `worker.grade_one`: the same repair, sandbox (bubblewrap on the worker, when installed
there) and limits as the local pool. The main process alone unpacks the outcomes into OUT/work
and writes the gradebook, as it does for the local pool: a worker never sees the gradebook.

A worker that dies in the middle of a task (killed, its machine gone) costs a retry: the
scheduler gives the task to another worker (Dask's `distributed.scheduler.allowed-failures`,
3 by default, deaths per task before the grading stops).

Workers need this course installed (the same version: the tests are in the lessons' notebooks
the task carries, but the repair, the checks and nnlib come from the worker's nncourse) and
bubblewrap; they should run one thread each (`dask worker ADDRESS --nthreads 1 --nworkers N`):
a task that shares its worker process with another waits for it (nbgrader changes the process's
PATH and logging while it grades).
"""

import contextlib
import dataclasses
import os
import shutil
import socket
import sys
import tempfile
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from nncourse.course import notebook_path

LOCAL = "local:"  # --cluster local:N: a LocalCluster of N worker processes on this machine


def local_workers(cluster):
    """N of a "local:N" cluster, or None for a scheduler's address; ValueError for a
    "local:..." that does not give a positive number of workers."""
    if not cluster.startswith(LOCAL):
        return None
    count = cluster.removeprefix(LOCAL)
    if not count.isdigit() or int(count) < 1:
        raise ValueError(f"--cluster {cluster}: expected local:N, N the number of worker "
                         "processes (e.g. local:2)")
    return int(count)


def check_scheduler(address, timeout=10):
    """Raise ValueError, in one line, when no Dask scheduler answers at address."""
    import asyncio

    from distributed.comm import connect

    async def ping():
        comm = await connect(address, timeout=timeout)
        await comm.close()

    try:  # in a thread of its own: the caller may run an event loop (Jupyter, a test)
        with ThreadPoolExecutor(1) as thread:
            thread.submit(asyncio.run, ping()).result()
    except (OSError, TimeoutError, ValueError, TypeError) as error:
        reason = str(error).strip().splitlines()[0] if str(error).strip() else \
            type(error).__name__
        raise ValueError(f"no Dask scheduler answers at {address} ({reason}); start one "
                         "with `dask scheduler` and give the address it prints") from None


@dataclass
class Lesson:
    """What every task of a lesson needs, sent to the cluster once: bytes of files."""
    release: bytes  # OUT/course/release/<lesson>/<lesson>.ipynb
    source: bytes  # OUT/course/source/<lesson>/<lesson>.ipynb (the rubrics of written answers)
    template: bytes  # OUT/template.db: the empty gradebook each task copies


@dataclass
class Outcome:
    """What a task sends back: the Result (its `work` and `failure` paths are the worker's,
    replaced by `unpack`), the files of the graded folders and nbgrader's log if it failed."""
    result: object
    files: dict  # path relative to the task's work folder -> bytes
    log: str  # nbgrader's log when it could not grade ("" when it could)
    out: str  # the task's folder on the worker, as it appears in flags and comments
    host: str
    sandboxed: bool  # bubblewrap was there


_one_at_a_time = threading.Lock()  # see the module docstring: one grading per process


def grade_task(lesson, name, content, student, lesson_name, limits):
    """Grade one submission (its file name and bytes) on a worker; return an Outcome."""
    from nncourse.grading import sealed, worker
    from nncourse.grading.sandbox import bubblewrap
    from nncourse.grading.submissions import Submission

    with _one_at_a_time, tempfile.TemporaryDirectory(prefix="nncourse-task-") as folder, \
            _output_to(Path(tempfile.gettempdir()) / f"nncourse-worker-{os.getpid()}.log"):
        out = Path(folder)
        for kind, data in (("release", lesson.release), ("source", lesson.source)):
            path = notebook_path(out / "course" / kind, lesson_name)
            path.parent.mkdir(parents=True)
            path.write_bytes(data)
        (out / "template.db").write_bytes(lesson.template)
        received = out / "received" / name  # hidden from the kernel, as the class folder is
        received.parent.mkdir()
        received.write_bytes(content)
        worker.forget_lessons()  # the paths of this folder may be reused by a later task
        result = worker.grade_one(Submission(student, lesson_name, received), out,
                                  sealed(limits, out))
        work = result.work
        files = {str(p.relative_to(work)): p.read_bytes()
                 for p in sorted(work.rglob("*")) if p.is_file()}
        log = Path(result.failure).read_text() if result.failure else ""
        return Outcome(result, files, log, folder, socket.gethostname(),
                       bubblewrap() is not None)


@contextlib.contextmanager
def _output_to(log):
    """Send what is printed to the process's stdout and stderr (by the kernels it starts,
    which inherit them, and by nbgrader) to the file log while grading, not into the terminal
    of the worker, or of the instructor for a LocalCluster."""
    for stream in (sys.stdout, sys.stderr):
        stream.flush()
    saved = os.dup(1), os.dup(2)
    file = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    os.dup2(file, 1)
    os.dup2(file, 2)
    try:
        yield
    finally:
        for stream in (sys.stdout, sys.stderr):
            stream.flush()
        os.dup2(saved[0], 1)
        os.dup2(saved[1], 2)
        for fd in (*saved, file):
            os.close(fd)


def unpack(outcome, out):
    """The Result of an Outcome, its files written to OUT/work/<lesson>/<student> and its log
    to OUT/logs/<lesson>/<student>.log, as a local worker leaves them."""
    result = outcome.result
    work = out / "work" / result.lesson / result.student
    shutil.rmtree(work, ignore_errors=True)
    for relative, data in outcome.files.items():
        path = work / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    # The flags and comments name the worker's folder (the log nbgrader left): name OUT's.
    here = lambda text: text.replace(outcome.out, str(out))  # noqa: E731
    result.flags = [here(flag) for flag in result.flags]
    result.comments = {cell: here(text) for cell, text in result.comments.items()}
    result.work = work
    if outcome.log:
        log = out / "logs" / result.lesson / f"{result.student}.log"
        log.parent.mkdir(parents=True, exist_ok=True)
        log.write_text(outcome.log)
        result.failure = str(log)
    return result


def grade_on_cluster(todo, out, limits, cluster, progress, done):
    """Grade each (submission, fingerprint) of todo as a task on the Dask cluster `cluster`
    ("local:N" or a scheduler's address): call done(result) as each Result comes back (its
    fingerprint set), progress(text) for what the instructor should know."""
    from distributed import Client, LocalCluster

    workers = local_workers(cluster)
    local = None
    if workers:  # workers as processes of one thread; a kernel's memory is limited by prlimit
        local = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                             memory_limit=0)
    try:
        with Client(local or cluster, set_as_default=False) as client:
            _grade(client, todo, out, limits, progress, done)
    finally:
        if local is not None:
            local.close()


def send_lesson(client, name, out):
    """A future of the Lesson `name` of the grading folder OUT, made on the cluster by a task
    whose arguments are its files' bytes: the scheduler keeps them, so a Lesson whose workers
    all died is made again on another (data sent with `client.scatter` has no such recipe, and
    the tasks that need it would fail with it)."""
    return client.submit(Lesson, notebook_path(out / "course" / "release", name).read_bytes(),
                         notebook_path(out / "course" / "source", name).read_bytes(),
                         (out / "template.db").read_bytes(),
                         key=f"lesson-{name}-{os.urandom(4).hex()}")


def _grade(client, todo, out, limits, progress, done):
    from distributed import as_completed

    progress(f"Dask: {len(client.scheduler_info()['workers'])} workers, dashboard at "
           f"{client.dashboard_link}")
    for address, info in client.scheduler_info()["workers"].items():
        if info["nthreads"] > 1:
            progress(f"warning: the Dask worker {address} runs {info['nthreads']} threads: its "
                   "tasks grade one at a time (start workers with --nthreads 1)")
    lessons = {}
    for submission, _ in todo:
        name = submission.lesson
        if name not in lessons:
            lessons[name] = send_lesson(client, name, out)
    # the kernel's limits without this machine's folders: each task hides its own
    limits = dataclasses.replace(limits, hidden=(), readable=())
    futures = {client.submit(grade_task, lessons[s.lesson], s.path.name, s.path.read_bytes(),
                             s.student, s.lesson, limits, pure=False,
                             key=f"grade-{s.lesson}-{s.student}-{os.urandom(4).hex()}"):
               fingerprint for s, fingerprint in todo}
    unsandboxed = set()
    for future in as_completed(futures, loop=client.loop):
        outcome = future.result()
        if not outcome.sandboxed and outcome.host not in unsandboxed:
            unsandboxed.add(outcome.host)
            progress(f"warning: bubblewrap (bwrap) is not installed on the Dask worker's machine "
                   f"{outcome.host}, so student code runs there without the file-system and "
                   "network sandbox (memory limit only).")
        result = unpack(outcome, out)
        result.fingerprint = futures.pop(future)
        done(result)
