"""Grading on a Dask cluster: a class graded with `--jobs 2` and with `--cluster local:2`, the
scheduler's overhead per task, and what the main process and the network pay per notebook.

    python benchmarks/cluster.py [--size 100] [--repeats 1] [--tasks 2000]
                                 [--records 100 1000] [--out benchmarks/results]

The class is benchmarks/grading.py's: N copies of the sample lesson-01 notebooks. Both modes
grade it into a fresh folder, interleaved when --repeats > 1; the cluster's time includes
starting and closing its LocalCluster, as an instructor pays it. Then, measured on their own:
- a LocalCluster of 2 worker processes of one thread started and closed;
- the scheduler's overhead per task: --tasks no-op tasks (and as many carrying a submission's
  bytes in and a graded notebook's bytes out) mapped onto such a cluster and gathered, against
  calling the same function in this process;
- the bytes of a task: a submission in, what grading made out (the files Dask sends back);
- the main process's share, which no worker takes: N results recorded into a new SQLite
  gradebook, exported to grades.csv and read back (the same in PostgreSQL when it is
  installed, on a server of tests/postgres_server.py); copying the graded folders;
- one notebook of each lesson (the sample student ada's) graded by the worker's own function,
  in this process: seconds, cores kept busy, and the peak memory of its kernel.
Writes cluster.md into --out; a section "## Projection" written by hand in it is kept.
"""

import argparse
import dataclasses
import datetime
import os
import platform
import shlex
import shutil
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

# grading.py beside this file (on the path already when run as a script, not when a test loads it)
sys.path.insert(0, str(Path(__file__).resolve().parent))

from grading import LESSON, make_class  # noqa: E402

from nncourse.course import ROOT, SOLUTIONS  # noqa: E402
from nncourse.course import lessons as all_lessons  # noqa: E402
from nncourse.grading import grade_class  # noqa: E402

WORKERS = 2  # the LocalCluster's worker processes, and the local pool's --jobs
PROJECTION = "## Projection"  # the hand-written section, kept from the previous results
STEPS = {  # what the main process does with the gradebook after a grading (in this order)
    "record": "nbgrader.record: the grades written into a new gradebook",
    "export": "nbgrader.export: grades.csv of the whole gradebook",
    "class_scores": "nbgrader.class_scores: the scores read back",
}
SAMPLE = ROOT / "examples" / "class" / "ada"  # a student who handed in every lesson


def noop(x):
    return x


def echo(payload, size):
    """A task carrying `payload` in and `size` bytes out (a submission in, a graded one out)."""
    return bytes(size)


def grade(submissions, out, **mode):
    """Seconds to grade the class into the new folder `out` (jobs=... or cluster=...)."""
    start = time.perf_counter()
    grading = grade_class(submissions, out, lessons=[LESSON], progress=lambda _: None, **mode)
    elapsed = time.perf_counter() - start
    if len(grading.results) != len(list(submissions.iterdir())):
        raise RuntimeError(f"{mode}: {len(grading.results)} results for the class")
    return elapsed, grading


def local_cluster():
    from distributed import LocalCluster
    return LocalCluster(n_workers=WORKERS, threads_per_worker=1, processes=True,
                        memory_limit=0, dashboard_address=None)


def cluster_start():
    """(seconds to start, seconds to close) a LocalCluster as grading starts one."""
    start = time.perf_counter()
    cluster = local_cluster()
    started = time.perf_counter()
    cluster.close()
    return started - start, time.perf_counter() - started


def overhead(tasks, payload_in, payload_out):
    """Seconds per task on a LocalCluster: no-op tasks, tasks with payloads; and per call of
    the no-op in this process. Each is `tasks` tasks mapped and gathered."""
    from distributed import Client

    with local_cluster() as cluster, Client(cluster, set_as_default=False) as client:
        client.gather(client.map(noop, range(4 * WORKERS), pure=False))  # workers warmed up
        start = time.perf_counter()
        client.gather(client.map(noop, range(tasks), pure=False))
        empty = (time.perf_counter() - start) / tasks
        inputs = [os.urandom(payload_in) for _ in range(tasks)]
        start = time.perf_counter()
        client.gather(client.map(echo, inputs, [payload_out] * tasks, pure=False))
        loaded = (time.perf_counter() - start) / tasks
    start = time.perf_counter()
    for k in range(tasks):
        noop(k)
    return empty, loaded, (time.perf_counter() - start) / tasks


def task_bytes(submissions, out):
    """Mean bytes of a submission, of its autograded notebook and of everything grading made
    for it (what a Dask task sends back), over the class graded into `out`; and the bytes of
    the lesson (released and source notebooks, template gradebook: sent once per worker)."""
    lesson = sum(p.stat().st_size for p in (out / "course" / "release" / LESSON / f"{LESSON}.ipynb",
                                            out / "course" / "source" / LESSON / f"{LESSON}.ipynb",
                                            out / "template.db"))
    sizes = {"submission": [], "autograded": [], "outcome": []}
    for work in sorted((out / "work" / LESSON).iterdir()):
        if not work.is_dir():
            continue  # the task's own gradebook beside its folder, which stays on the worker
        student = work.name
        sizes["submission"].append(
            (submissions / student / LESSON / f"{LESSON}.ipynb").stat().st_size)
        sizes["autograded"].append(
            (work / "autograded" / student / LESSON / f"{LESSON}.ipynb").stat().st_size)
        sizes["outcome"].append(sum(p.stat().st_size for p in work.rglob("*") if p.is_file()))
    return {"lesson": lesson, **{kind: statistics.mean(values) for kind, values in sizes.items()}}


def gradebook_seconds(results, db_url, count, csv):
    """{step: seconds} of what the main process does with a gradebook after a grading, for
    `count` results (the class's over and over, each time under other students' names) into
    the gradebook at db_url, made by nbgrader but empty: record them, export them to the
    file `csv`, read their scores back (class_scores)."""
    from nncourse.grading import nbgrader

    rounds = -(-count // len(results))
    copies = [dataclasses.replace(r, student=f"{r.student}-{k}")
              for k in range(rounds) for r in results][:count]
    steps = {"record": lambda: nbgrader.record(db_url, copies),
             "export": lambda: nbgrader.export(db_url, csv),
             "class_scores": lambda: nbgrader.class_scores(
                 db_url, [(r.student, r.lesson) for r in copies])}
    seconds = {}
    for step, run in steps.items():
        start = time.perf_counter()
        run()
        seconds[step] = time.perf_counter() - start
    return seconds


def copy_seconds(results, course):
    """Seconds to copy each result's submitted and autograded folders into `course`, as the
    main process does after a grading."""
    start = time.perf_counter()
    for r in results:
        for folder in ("submitted", "autograded"):
            shutil.copytree(r.work / folder / r.student / r.lesson,
                            course / folder / r.student / r.lesson)
    return time.perf_counter() - start


def postgres_gradebook(results, course, counts, folder):
    """{count: gradebook_seconds} in PostgreSQL, on a server of the tests' own; {} when
    PostgreSQL is not installed."""
    sys.path.insert(0, str(ROOT / "tests"))
    from postgres_server import binaries, postgres_server

    from nncourse.grading import nbgrader

    seconds = {}
    if binaries() is None:
        return seconds
    with postgres_server() as server:
        for count in counts:
            url = server.new_database(f"bench{count}")
            nbgrader.generate(course, [LESSON], url)
            seconds[count] = gradebook_seconds(results, url, count, folder / f"pg{count}.csv")
    return seconds


class Kernels:
    """What the processes this process starts in the with block (a kernel, its sandbox) use,
    sampled every `every` seconds: the largest resident and virtual size of one of them
    (bytes) and their CPU seconds (each one's as last sampled: its last moments are missed)."""

    def __init__(self, every=0.1):
        self.every, self.rss, self.vms, self._cpu = every, 0, 0, {}
        self._stop = threading.Event()

    @property
    def cpu(self):
        return sum(self._cpu.values())

    def __enter__(self):
        import psutil

        self._before = {p.pid for p in psutil.Process().children(recursive=True)}
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *_):
        self._stop.set()
        self._thread.join()

    def _sample(self):
        import psutil

        me = psutil.Process()
        while not self._stop.wait(self.every):
            for child in me.children(recursive=True):
                if child.pid in self._before:  # e.g. the grading pool's forkserver
                    continue
                try:
                    memory, cpu = child.memory_info(), child.cpu_times()
                except psutil.Error:  # gone meanwhile
                    continue
                self.rss, self.vms = max(self.rss, memory.rss), max(self.vms, memory.vms)
                self._cpu[child.pid] = cpu.user + cpu.system


def lesson_costs(folder):
    """{lesson: (seconds, cores busy, peak kernel rss, peak kernel vms)} of grading SAMPLE's
    notebook of each lesson with worker.grade_one, in this process (after one grading to warm
    up); cores busy: the CPU seconds of this process and its kernel over the seconds."""
    from nncourse.grading import nbgrader, sealed, worker
    from nncourse.grading.limits import DEFAULT
    from nncourse.grading.submissions import Submission

    names = all_lessons()
    for lesson in names:
        shutil.copytree(SOLUTIONS / lesson, folder / "course" / "source" / lesson)
    nbgrader.generate(folder / "course", names, f"sqlite:///{folder / 'template.db'}")
    limits = sealed(DEFAULT, folder)
    costs = {}
    for lesson in [names[0], *names]:  # the first one again: its first run warms up
        shutil.rmtree(folder / "work", ignore_errors=True)
        submission = Submission(SAMPLE.name, lesson, SAMPLE / lesson / f"{lesson}.ipynb")
        with Kernels() as kernels:
            start, cpu = time.perf_counter(), time.process_time()
            result = worker.grade_one(submission, folder, limits)
            elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
        if result.failure:
            raise RuntimeError(f"{lesson}: nbgrader could not grade it ({result.failure})")
        costs[lesson] = (elapsed, (cpu + kernels.cpu) / elapsed, kernels.rss, kernels.vms)
    return costs


def compose(measured, previous):
    """The results file: the measured part, then the hand-written projection of `previous`
    (the file's earlier text) when it has one."""
    at = previous.find(f"\n{PROJECTION}")
    kept = previous[at:] if at >= 0 else ""
    return measured.rstrip("\n") + "\n" + kept


def machine():
    import dask
    return (f"{os.cpu_count()} cores ({platform.machine()}), Python "
            f"{platform.python_version()}, dask/distributed {dask.__version__}")


def load():
    """The load averages over 1, 5 and 15 minutes."""
    return ", ".join(f"{x:.2f}" for x in os.getloadavg())


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size", type=int, default=100, help="notebooks in the class")
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--tasks", type=int, default=2000, help="tasks of the overhead test")
    parser.add_argument("--records", type=int, nargs="+", default=[100, 1000],
                        help="results written into a gradebook at once")
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results"))
    args = parser.parse_args(argv)
    command = shlex.join(["python", "benchmarks/cluster.py", *(argv or sys.argv[1:])])
    started_at, before = datetime.datetime.now().astimezone(), load()
    say = lambda text: print(text, flush=True)  # noqa: E731
    times = {"jobs": [], "cluster": []}
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        submissions = make_class(tmp / "class", args.size)
        loads = []
        for rep in range(args.repeats):
            for mode, kwargs in (("jobs", {"jobs": WORKERS}),
                                 ("cluster", {"cluster": f"local:{WORKERS}"})):
                loads.append(os.getloadavg()[0])
                elapsed, grading = grade(submissions, tmp / f"{mode}{rep}", **kwargs)
                times[mode].append(elapsed)
                say(f"{mode} run {rep + 1}: {elapsed:.1f} s")
                if mode == "jobs" and rep == 0:
                    graded = grading  # its folders: the task's bytes, the main process's share
        out = tmp / "jobs0"
        sizes = task_bytes(submissions, out)
        results = list(graded.results)
        sqlite = {}
        for count in args.records:  # nbgrader's new gradebook, as the template is
            shutil.copy(out / "template.db", tmp / f"record{count}.db")
            sqlite[count] = gradebook_seconds(results, f"sqlite:///{tmp / f'record{count}.db'}",
                                              count, tmp / f"sqlite{count}.csv")
        copied = copy_seconds(results, tmp / "copied") / len(results)
        pg = postgres_gradebook(results, out / "course", args.records, tmp)
        say("grading timed; the cluster's start, the overhead per task, the lessons ...")
        start_s, close_s = cluster_start()
        empty, loaded, in_process = overhead(args.tasks, round(sizes["submission"]),
                                             round(sizes["outcome"]))
        costs = lesson_costs(tmp / "lessons")
    after = load()
    t = {mode: statistics.median(values) for mode, values in times.items()}
    n = args.size
    lines = [
        "# Grading on a Dask cluster vs the local pool", "",
        f"Measured {started_at:%Y-%m-%d %H:%M %Z} with `{command}`.  ",
        f"Machine: {machine()}.  ",
        f"Load average (1, 5, 15 min) at the start: {before}; at the end: {after}.  ",
        f"1-minute load average when each grading started: "
        f"{', '.join(f'{x:.2f}' for x in loads)}.", "",
        f"## A class of {n} (lesson {LESSON}), median of {args.repeats} interleaved run(s)", "",
        "| mode | notebooks | wall s | s/notebook | ratio to --jobs 2 |", "|---|---|---|---|---|",
        f"| `--jobs {WORKERS}` (local process pool) | {n} | {t['jobs']:.1f} | "
        f"{t['jobs'] / n:.3f} | 1.00 |",
        f"| `--cluster local:{WORKERS}` (LocalCluster started and closed in the run) | {n} | "
        f"{t['cluster']:.1f} | {t['cluster'] / n:.3f} | {t['cluster'] / t['jobs']:.2f} |",
        "", f"Starting a LocalCluster of {WORKERS} worker processes (one thread each) on its "
        f"own: {start_s:.2f} s, closing it {close_s:.2f} s. Cluster minus local pool, per "
        f"notebook: {(t['cluster'] - t['jobs']) / n:+.3f} s; without the cluster's start and "
        f"close: {(t['cluster'] - start_s - close_s - t['jobs']) / n:+.3f} s.", "",
        "## The scheduler's overhead per task", "",
        f"{args.tasks} tasks mapped onto a LocalCluster of {WORKERS} worker processes (one "
        "thread each) and gathered, wall time / tasks:", "",
        "| task | µs per task |", "|---|---|",
        f"| no-op | {empty * 1e6:.0f} |",
        f"| {sizes['submission'] / 1e3:.0f} kB in, {sizes['outcome'] / 1e3:.0f} kB out (a "
        f"submission, a graded task's files) | {loaded * 1e6:.0f} |",
        f"| the no-op called in this process | {in_process * 1e6:.2f} |", "",
        "## Bytes per task (lesson 01, mean over the class)", "",
        f"Submission in: {sizes['submission'] / 1e3:.0f} kB; autograded notebook: "
        f"{sizes['autograded'] / 1e3:.0f} kB; everything a task sends back (submitted, "
        f"autograded): {sizes['outcome'] / 1e3:.0f} kB. Once per lesson and worker: the "
        f"lesson's released and source notebooks and template gradebook, "
        f"{sizes['lesson'] / 1e3:.0f} kB.", "",
        "## The main process's share per notebook", "",
        "| step | notebooks | s | ms/notebook |", "|---|---|---|---|",
        *(f"| {STEPS[step]}, {backend} | {count} | {s:.1f} | {s / count * 1e3:.1f} |"
          for backend, measured in (("SQLite", sqlite), ("PostgreSQL", pg))
          for count, steps in measured.items() for step, s in steps.items()),
        *([] if pg else ["| the same in PostgreSQL: not measured, PostgreSQL is not "
                         "installed | | | |"]),
        f"| copying the submitted and autograded folders | {len(results)} | "
        f"{copied * len(results):.2f} | {copied * 1e3:.1f} |", "",
        f"## One notebook of each lesson ({SAMPLE.name}'s), graded by one worker", "",
        "Seconds of worker.grade_one (repair, autograde on a sandboxed kernel, scores); the "
        "cores it kept busy (CPU seconds of the grading process and the kernel, over those "
        "seconds); the kernel's peak resident and virtual size (the limit is on the virtual "
        "size).", "",
        "| lesson | s | cores busy | kernel peak RSS MB | kernel peak virtual MB |",
        "|---|---|---|---|---|",
        *(f"| {lesson} | {s:.1f} | {cores:.2f} | {rss / 2**20:.0f} | {vms / 2**20:.0f} |"
          for lesson, (s, cores, rss, vms) in costs.items()), "",
    ]
    args.out.mkdir(parents=True, exist_ok=True)
    target = args.out / "cluster.md"
    target.write_text(compose("\n".join(lines), target.read_text() if target.exists() else ""))
    say(target.read_text())


if __name__ == "__main__":
    main()
