"""Grading on Dask's real scheduler and worker processes (`nncourse grade --cluster local:N`,
`--scheduler ADDRESS`): the sample class gets exactly its expected grades (the same file the
local pool is held to in test_grading), a worker killed in the middle of a task costs a retry
and not a grade, student code is sandboxed on the workers, and mistakes are one line.
"""

import json
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from nncourse.course import ROOT, notebook_path

CLASS = ROOT / "examples" / "class"
EXPECTED = json.loads((ROOT / "examples" / "expected_grades.json").read_text())
LESSON = "01_loss_and_cost"
STUDENTS = ["ada", "ben", "cleo", "dan", "finn", "snooper"]  # lesson 01's, and a snooper
NNCOURSE = [str(Path(sys.executable).parent / "nncourse")]  # as the README runs it

pytestmark = pytest.mark.grading

# What a student would look for from a worker's kernel; each must be out of reach.
SNOOP = '''
import json, os, socket
def _seen(path):
    try:
        return bool(os.listdir(path)) if os.path.isdir(path) else open(path, "rb").read(1) != b""
    except OSError:
        return False
def _network():
    try:
        socket.create_connection(("127.0.0.1", {port}), timeout=2).close()
        return True
    except OSError:
        return False
print("SNOOP", json.dumps({{"solutions": _seen("{solution}"), "class": _seen("{source}"),
                          "grading folder": _seen("{out}"), "network": _network()}}))
'''


def class_of_lesson_01(folder):
    """The sample class's lesson-01 submissions (four in nbgrader's layout, one flat file)
    copied into folder."""
    for path in CLASS.glob(f"*/{LESSON}/{LESSON}.ipynb"):
        target = folder / path.relative_to(CLASS)
        target.parent.mkdir(parents=True)
        target.write_bytes(path.read_bytes())
    (folder / f"finn_{LESSON}.ipynb").write_bytes((CLASS / f"finn_{LESSON}.ipynb").read_bytes())
    return folder


def add_snooper(folder, ctx):
    """ada's lesson 01 with SNOOP appended, filled in with ctx, as student "snooper"."""
    notebook = json.loads(notebook_path(CLASS / "ada", LESSON).read_text())
    notebook["cells"].append({"cell_type": "code", "execution_count": None, "metadata": {},
                              "outputs": [], "source": SNOOP.format(**ctx)})
    target = notebook_path(folder / "snooper", LESSON)
    target.parent.mkdir(parents=True)
    target.write_text(json.dumps(notebook))


def expected_scores(student, lesson):
    """{grade_id: points} of the expected grades (examples/expected_grades.json), None for a
    written answer that awaits a person."""
    return EXPECTED[student][lesson]


def worker_with_a_kernel(pids):
    """(address, pid) of the worker, of pids ({address: pid}), that is running a student's
    kernel right now, or None."""
    import psutil

    for address, pid in pids.items():
        try:
            children = psutil.Process(pid).children(recursive=True)
        except psutil.NoSuchProcess:
            continue
        if any("ipykernel" in " ".join(c.cmdline()) for c in children if c.is_running()):
            return address, pid
    return None


@pytest.fixture(scope="module")
def killed(tmp_path_factory):
    """Lesson 01 of the sample class and a snooper graded with --scheduler on a cluster started
    as the README says (`dask scheduler`; `dask worker ... --nthreads 1 --nworkers 2
    --memory-limit 0`), one of whose workers is killed while its student's kernel runs; return
    ({student: {grade_id: score}} read from the gradebook, what was killed, the dashboard's page
    and the command's output, OUT).

    `nncourse grade` runs as a process of its own, as an instructor runs it. The workers' pids
    are asked for once, before grading: `client.run` makes a worker's event-loop thread parse
    a signature with the ast module (inspect on the builtin os.getpid), and Python 3.11's ast
    module counts its recursion depth in one counter for all threads, so a parse at the same
    time as the task thread's (nbformat's first import, the repair of a notebook) raises
    "AST constructor recursion depth mismatch" in the task: polling with it failed the task."""
    import socket

    tmp = tmp_path_factory.mktemp("dask")
    source, out = class_of_lesson_01(tmp / "class"), tmp / "out"
    listener = socket.create_server(("127.0.0.1", 0))
    add_snooper(source, {"port": listener.getsockname()[1], "source": source, "out": out,
                         "solution": notebook_path(ROOT / "solutions", LESSON)})
    from distributed import Client
    dask = str(Path(sys.executable).parent / "dask")
    address_file = tmp / "scheduler.json"
    started = [subprocess.Popen([dask, "scheduler", "--host", "127.0.0.1", "--port", "0",
                                 "--dashboard-address", ":0", "--scheduler-file",
                                 str(address_file)], stderr=subprocess.DEVNULL)]
    started.append(subprocess.Popen([dask, "worker", "--scheduler-file", str(address_file),
                                     "--nthreads", "1", "--nworkers", "2", "--memory-limit",
                                     "0"], stderr=subprocess.DEVNULL))
    kill = {}

    def killer(client, pids, stop):
        while not stop.is_set():
            found = worker_with_a_kernel(pids)
            if found:
                address, pid = found
                kill["tasks"] = list(client.processing()[address])
                kill["pid"] = pid
                os.kill(pid, signal.SIGKILL)
                return
            time.sleep(0.2)

    try:
        with Client(scheduler_file=str(address_file), timeout=60,
                    set_as_default=False) as client:
            client.wait_for_workers(2, timeout=120)
            kill["dashboard"] = urllib.request.urlopen(client.dashboard_link, timeout=30).read()
            pids = client.run(os.getpid)  # before any task runs: see above
            stop = threading.Event()
            thread = threading.Thread(target=killer, args=(client, pids, stop))
            thread.start()
            try:
                grading = subprocess.run(
                    [*NNCOURSE, "grade", str(source), "--lesson", LESSON, "--timeout", "10",
                     "--scheduler", client.scheduler.address, "--out", str(out)],
                    capture_output=True, text=True, cwd=tmp)
            finally:
                stop.set()
                thread.join()
    finally:
        for process in reversed(started):
            process.terminate()
            process.wait(timeout=60)
        listener.close()
    kill["stdout"], kill["stderr"], kill["status"] = (grading.stdout, grading.stderr,
                                                      grading.returncode)
    from nncourse.grading import nbgrader

    scores = nbgrader.class_scores(f"sqlite:///{out / 'gradebook.db'}",
                                   [(student, LESSON) for student in STUDENTS])
    return {key[0]: {g: s for g, (s, _) in cells.items()} for key, cells in scores.items()}, \
        kill, out


def test_a_worker_killed_mid_task_costs_a_retry_not_a_grade(killed):
    results, kill, _ = killed
    assert kill["status"] == 0, kill["stdout"] + kill["stderr"][-3000:]
    assert kill.get("tasks"), f"no task was running on the killed worker:\n{kill['stdout']}"
    with pytest.raises(ProcessLookupError):
        os.kill(kill["pid"], 0)  # it is gone
    assert "[6/6] " in kill["stdout"] and "6 graded, 0 could not be graded" in kill["stdout"]
    for student in STUDENTS[:-1]:
        assert results[student] == expected_scores(student, LESSON), student
    # the tasks the killed worker held were graded again, elsewhere: every student's is there
    held = {key.split("-")[2] for key in kill["tasks"]}
    assert held <= set(STUDENTS)


def test_the_dashboard_shows_the_progress(killed):
    _, kill, _ = killed
    assert b"Dask" in kill["dashboard"] and b"bokeh" in kill["dashboard"].lower()


def test_student_code_on_a_worker_is_sandboxed(killed):
    results, kill, out = killed
    assert results["snooper"] == expected_scores("ada", LESSON), (
        kill["stdout"] + kill["stderr"][-3000:])
    graded = json.loads(notebook_path(out / "course" / "autograded" / "snooper", LESSON)
                        .read_text())
    printed = "".join("".join(o.get("text", "")) for c in graded["cells"]
                      for o in c.get("outputs", []))
    seen = json.loads(next(line for line in printed.splitlines()
                           if line.startswith("SNOOP")).removeprefix("SNOOP "))
    assert seen == {"solutions": False, "class": False, "grading folder": False,
                    "network": False}


def test_a_lesson_whose_workers_all_died_is_made_again(tmp_path):
    """The lesson's files (sent once, shared by its tasks) outlive every worker that held them:
    the scheduler makes them again for the tasks that still need them."""
    from operator import attrgetter

    from distributed import Client, LocalCluster

    from nncourse.grading.cluster import send_lesson

    for kind in ("release", "source"):
        path = notebook_path(tmp_path / "course" / kind, LESSON)
        path.parent.mkdir(parents=True)
        path.write_bytes(kind.encode())
    (tmp_path / "template.db").write_bytes(b"template")
    with LocalCluster(n_workers=2, threads_per_worker=1, memory_limit=0) as cluster, \
            Client(cluster, set_as_default=False) as client:
        lesson = send_lesson(client, LESSON, tmp_path)
        lesson.result()
        holders = client.who_has(lesson)[lesson.key]
        client.restart_workers(list(holders))  # their processes die, their memory with them
        assert client.submit(attrgetter("release", "template"), lesson).result(timeout=60) == (
            b"release", b"template")


def test_the_class_on_a_local_cluster_gets_exactly_the_expected_grades(tmp_path):
    """The command as an instructor types it: the whole sample class (12 notebooks, lesson 05
    training Keras in a cell) on `--cluster local:2`."""
    out = tmp_path / "out"
    done = subprocess.run([*NNCOURSE, "grade", str(CLASS), "--cluster", "local:2",
                           "--timeout", "60", "--out", str(out)],
                          capture_output=True, text=True, cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "Dask: 2 workers, dashboard at http://" in done.stdout
    assert "[12/12] " in done.stdout
    from nncourse.grading import nbgrader

    keys = [(student, lesson) for student, lessons in EXPECTED.items() for lesson in lessons]
    scores = nbgrader.class_scores(f"sqlite:///{out / 'gradebook.db'}", keys)
    got = {key: {g: s for g, (s, _) in cells.items()} for key, cells in scores.items()}
    assert got == {key: EXPECTED[key[0]][key[1]] for key in keys}
    # a re-run on the cluster grades nothing again
    again = subprocess.run([*NNCOURSE, "grade", str(CLASS), "--cluster", "local:2",
                            "--out", str(out)], capture_output=True, text=True, cwd=tmp_path)
    assert again.returncode == 0 and "0 graded, 0 could not be graded, 12 unchanged" in \
        again.stdout, again.stdout[-2000:]


@pytest.mark.parametrize("args, message", [
    (["--cluster", "local:0"], "--cluster local:0: expected local:N"),
    (["--cluster", "two"], "--cluster two: expected local:N"),
    (["--scheduler", "two"], "no Dask scheduler answers at two"),
    (["--scheduler", "tcp://127.0.0.1:9"], "no Dask scheduler answers at tcp://127.0.0.1:9"),
    (["--cluster", "local:2", "--jobs", "2"], "not allowed with argument --cluster"),
])
def test_a_cluster_mistake_is_one_line_and_writes_nothing(tmp_path, args, message):
    out = tmp_path / "out"
    done = subprocess.run([*NNCOURSE, "grade", str(CLASS), *args, "--out", str(out)],
                          capture_output=True, text=True)
    assert done.returncode == 2
    assert message in done.stderr and len(done.stderr.strip().splitlines()) == 1, done.stderr
    assert not out.exists()


def test_the_scheduler_check_works_where_an_event_loop_runs():
    """As in a Jupyter notebook, which runs an event loop (or after a test that left one)."""
    import asyncio

    from nncourse.grading.cluster import check_scheduler

    async def inside_a_loop():
        with pytest.raises(ValueError, match="no Dask scheduler answers at tcp://127.0.0.1:9"):
            check_scheduler("tcp://127.0.0.1:9", timeout=1)

    # a thread of its own: after the browser tests, Playwright's loop runs in this one
    with ThreadPoolExecutor(1) as thread:
        thread.submit(asyncio.run, inside_a_loop()).result()
