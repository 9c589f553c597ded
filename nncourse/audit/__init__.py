"""`nncourse audit`: which wrong answers would a lesson's tests let through?

For every exercise (solution cell) of the selected lessons, `audit` makes mutants of the
solution (nncourse.audit.mutants) and adds the lesson's hand-written wrong answers
(tests/fixtures/wrong_answers/<lesson>.py), grades each on the sandboxed kernels of
`nncourse grade` (nncourse.audit.runner: one kernel per exercise, exercises in parallel) and
classifies it: killed by a public test, killed only by a hidden test, or survived. A survivor
listed in the reviewed file of equivalent mutants (tests/fixtures/equivalent_mutants.py) with
the reason it is right on every input the exercise allows counts as equivalent.
"""

import dataclasses
import multiprocessing
import os
import runpy
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from nncourse.audit.mutants import Mutant, mutant_id, mutants
from nncourse.audit.runner import HIDDEN_ONLY, PUBLIC, SURVIVED, Verdict, run_exercise
from nncourse.course import ROOT, SOLUTIONS, notebook_path
from nncourse.grading.limits import DEFAULT

FIXTURES = ROOT / "tests" / "fixtures"
EQUIVALENT = "equivalent"


@dataclass
class Row:
    """One mutant of one exercise and what grading made of it."""
    lesson: str
    mutant: Mutant
    original: str  # the solution cell's source
    verdict: Verdict
    reason: str = ""  # why it is equivalent (from the reviewed file)

    @property
    def status(self):
        return EQUIVALENT if self.reason and self.verdict.status == SURVIVED else \
            self.verdict.status


@dataclass
class Audit:
    """The rows of every audited exercise, and reviewed entries that matched no survivor."""
    rows: list
    stale: list  # [(lesson, mutant id, reason)] in the equivalents file, not a survivor now


def hand_written(lesson, fixtures=FIXTURES):
    """The lesson's wrong-answer fixtures as mutants (kind "hand-written")."""
    path = Path(fixtures) / "wrong_answers" / f"{lesson}.py"
    answers = runpy.run_path(str(path))["WRONG_ANSWERS"] if path.is_file() else []
    return [Mutant(mutant_id(lesson, a["cell"], a["source"]), a["cell"], "hand-written",
                   f"{a['name']}: {a['why']}", a["source"].strip() + "\n") for a in answers]


def equivalents(fixtures=FIXTURES):
    """{lesson: {mutant id: reason}} from the reviewed file beside the fixtures."""
    path = Path(fixtures) / "equivalent_mutants.py"
    return runpy.run_path(str(path))["EQUIVALENT"] if path.is_file() else {}


def exercises_of(lesson, source=SOLUTIONS):
    """[(solution cell grade_id, its source)] of a lesson, in notebook order."""
    import nbformat

    from nncourse.grading.nbgrader import grade_id, is_solution

    notebook = nbformat.read(notebook_path(source, lesson), as_version=4)
    return [(grade_id(c), c.source) for c in notebook.cells
            if is_solution(c) and c.cell_type == "code"]


def audit(lessons, source=SOLUTIONS, fixtures=FIXTURES, jobs=None, limits=DEFAULT,
          progress=print):
    """Grade every mutant of every exercise of `lessons`; return an Audit.

    source: the folder of the lessons' notebooks (solutions/); fixtures: the folder of
    wrong_answers/ and equivalent_mutants.py; jobs: worker processes (default: one per core).
    """
    source, fixtures = Path(source).resolve(), Path(fixtures).resolve()
    limits = dataclasses.replace(limits, hidden=tuple(sorted({str(ROOT), str(source)})),
                                 readable=(str(ROOT / "nnlib"), str(ROOT / "nncourse")))
    tasks = []
    for lesson in lessons:
        written = hand_written(lesson, fixtures)
        for cell, original in exercises_of(lesson, source):
            tasks.append((lesson, cell, original,
                          mutants(lesson, cell, original) + [m for m in written
                                                             if m.cell == cell]))
    jobs = jobs or max(1, min(len(tasks), os.cpu_count() or 1))
    progress(f"auditing {sum(len(t[3]) for t in tasks)} mutants of {len(tasks)} exercises "
             f"with {jobs} worker(s)")
    reviewed = equivalents(fixtures)
    pool = ProcessPoolExecutor(jobs, mp_context=multiprocessing.get_context("spawn"),
                               initializer=_quiet)
    with pool:
        futures = {(lesson, cell): pool.submit(run_exercise, source / lesson, lesson, cell,
                                               found, limits)
                   for lesson, cell, _, found in sorted(tasks, key=lambda t: len(t[3]),
                                                        reverse=True)}  # longest first
        rows = []
        for lesson, cell, original, found in tasks:  # in notebook order
            verdicts = futures[lesson, cell].result()
            progress(f"  {lesson} {cell}: {len(found)} mutants graded")
            rows += [Row(lesson, m, original, verdicts[m.id],
                         reviewed.get(lesson, {}).get(m.id, "")) for m in found]
    survivors = {(r.lesson, r.mutant.id) for r in rows if r.verdict.status == SURVIVED}
    stale = [(lesson, key, reason) for lesson, entries in reviewed.items()
             if lesson in lessons for key, reason in entries.items()
             if (lesson, key) not in survivors]
    return Audit(rows, stale)


def _quiet():
    """Send what kernels print in a worker to /dev/null, not into the author's terminal."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    os.dup2(devnull, 2)


__all__ = ["EQUIVALENT", "HIDDEN_ONLY", "PUBLIC", "SURVIVED", "Audit", "Row", "audit"]
