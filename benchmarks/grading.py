"""Grading speed: `nncourse grade` with 1 job and with every core, vs plain `nbgrader autograde`.

    python benchmarks/grading.py [--sizes 20 100] [--repeats 1] [--out benchmarks/results]

A class of N students is made of copies of the sample class's lesson-01 notebooks (complete,
blank, partly done, typical mistakes, calling nnlib), cycled. Plain nbgrader grades it the
way an instructor would without this course's tools: one `nbgrader autograde` process,
one student after another, kernels without a sandbox. The three runs are interleaved for
each class size. Writes grading.md into --out.
"""

import argparse
import itertools
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from nncourse.course import ROOT
from nncourse.grading import grade_class

LESSON = "01_loss_and_cost"


def make_class(folder, size):
    """N copies of the sample lesson-01 notebooks in nbgrader's layout; return the folder."""
    samples = sorted(ROOT.glob(f"examples/class/*/{LESSON}/{LESSON}.ipynb")) + sorted(
        ROOT.glob(f"examples/class/*_{LESSON}.ipynb"))
    for k, sample in zip(range(size), itertools.cycle(samples)):
        target = folder / f"student{k:03d}" / LESSON / f"{LESSON}.ipynb"
        target.parent.mkdir(parents=True)
        shutil.copy(sample, target)
    return folder


def plain_nbgrader(submissions, work):
    """Seconds for generate + sequential autograde of every student with plain nbgrader: its
    two commands, as an instructor types them, on the repository's nbgrader_config.py."""
    work.mkdir(parents=True)
    shutil.copy(ROOT / "nbgrader_config.py", work)
    shutil.copytree(ROOT / "solutions" / LESSON, work / "solutions" / LESSON)
    shutil.copytree(submissions, work / "submitted")
    # the commands beside this Python first on PATH: nbgrader runs `alembic` for a new gradebook
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    start = time.perf_counter()
    for args in (["generate_assignment", LESSON], ["autograde", LESSON]):
        done = subprocess.run([sys.executable, "-m", "nbgrader", *args], cwd=work, env=env,
                              capture_output=True, text=True)
        if done.returncode != 0:
            raise RuntimeError(done.stderr[-2000:])
    return time.perf_counter() - start


def ours(submissions, work, jobs):
    start = time.perf_counter()
    grade_class(submissions, work, lessons=[LESSON], jobs=jobs, progress=lambda _: None)
    return time.perf_counter() - start


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[20, 100])
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results"))
    args = parser.parse_args(argv)
    cores = os.cpu_count()
    header = (f"| class size | plain nbgrader s/sub | nncourse 1 job s/sub | nncourse {cores} jobs "
              f"s/sub | plain / {cores} jobs | 1 job / {cores} jobs |")
    lines = [f"Lesson {LESSON}, median of {args.repeats} interleaved run(s), {cores} cores. "
             "Times include nbgrader's setup (generate_assignment).", "", header,
             "|---|---|---|---|---|---|"]
    print(header, flush=True)
    for size in args.sizes:
        times = {"plain": [], "one": [], "all": []}
        with tempfile.TemporaryDirectory() as tmp:
            tmp = Path(tmp)
            submissions = make_class(tmp / "class", size)
            for rep in range(args.repeats):
                times["plain"].append(plain_nbgrader(submissions, tmp / f"plain{rep}"))
                times["one"].append(ours(submissions, tmp / f"one{rep}", 1))
                times["all"].append(ours(submissions, tmp / f"all{rep}", cores))
        t = {k: statistics.median(v) for k, v in times.items()}
        row = (f"| {size} | {t['plain'] / size:.2f} | {t['one'] / size:.2f} | "
               f"{t['all'] / size:.2f} | {t['plain'] / t['all']:.2f} | "
               f"{t['one'] / t['all']:.2f} |")
        print(row, flush=True)
        lines.append(row)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "grading.md").write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
