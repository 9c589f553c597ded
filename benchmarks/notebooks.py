"""How long each solution notebook takes top to bottom on a real kernel.

    python benchmarks/notebooks.py [--repeats 1] [--out benchmarks/results]

Writes notebooks.md into --out: one row per lesson, the median time (kernel start included)
and the lesson's budget (30 s, or its notebook metadata nncourse.time_budget_s).
"""

import argparse
import statistics
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

from nncourse.course import SOLUTIONS, lessons, notebook_path

BUDGET_S = 30


def run(lesson):
    path = notebook_path(SOLUTIONS, lesson)
    notebook = nbformat.read(path, as_version=4)
    budget = notebook.metadata.get("nncourse", {}).get("time_budget_s", BUDGET_S)
    start = time.perf_counter()
    NotebookClient(notebook, kernel_name="python3", timeout=600,
                   resources={"metadata": {"path": str(path.parent)}}).execute()
    return time.perf_counter() - start, budget


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results"))
    args = parser.parse_args(argv)
    lines = [f"Median of {args.repeats} run(s), kernel start included.", "",
             "| lesson | seconds | budget |", "|---|---|---|"]
    for lesson in lessons():
        runs = [run(lesson) for _ in range(args.repeats)]
        row = f"| {lesson} | {statistics.median(r[0] for r in runs):.1f} | {runs[0][1]} |"
        print(row, flush=True)
        lines.append(row)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "notebooks.md").write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
