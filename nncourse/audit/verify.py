"""Check the audit's fast verdicts against real grading, on a sample of mutants.

Each sampled mutant becomes a student's notebook (the solution notebook with the mutant in its
cell) and the whole sample is graded by `nncourse grade` itself (nncourse.grading.grade_class:
nbgrader's autograde of every cell in order, on a fresh sandboxed kernel per notebook). A
verdict agrees when real grading takes points off the exercise's test cells exactly when the
audit says the mutant was killed, and takes them off (at least) in the cell that killed it.
"""

import random
import tempfile
from pathlib import Path

import nbformat

from nncourse.audit.runner import SURVIVED
from nncourse.course import SOLUTIONS, exercises, notebook_path


def sample(rows, per_lesson, seed=0):
    """per_lesson rows of each lesson, drawn in turn from each verdict (public, hidden only,
    survived) so that rare verdicts are sampled too; the same rows for the same seed."""
    rng = random.Random(seed)
    chosen = []
    for lesson in sorted({r.lesson for r in rows}):
        groups = {}
        for row in rows:
            if row.lesson == lesson:
                groups.setdefault(row.verdict.status, []).append(row)
        pools = [rng.sample(group, len(group)) for _, group in sorted(groups.items())]
        picked = []
        while len(picked) < per_lesson and any(pools):
            for pool in pools:
                if pool and len(picked) < per_lesson:
                    picked.append(pool.pop())
        chosen += picked
    return chosen


def verify(rows, per_lesson, out=None, jobs=None, seed=0):
    """Grade a sample of the audited mutants with nncourse grade; return the disagreements
    as sentences (empty when every verdict agrees). out: unused folders go to a temporary
    directory; the grading of the sample is kept in out/grading when out is given."""
    from nncourse.grading import grade_class

    chosen = sample(rows, per_lesson, seed)
    students = {f"m{row.mutant.id}": row for row in chosen}
    with tempfile.TemporaryDirectory(prefix="nncourse-audit-verify-") as tmp:
        submissions = Path(tmp) / "submissions"
        for student, row in students.items():
            notebook = nbformat.read(notebook_path(SOLUTIONS, row.lesson), as_version=4)
            cell = next(c for c in notebook.cells
                        if c.metadata.get("nbgrader", {}).get("grade_id") == row.mutant.cell)
            cell.source = row.mutant.source
            path = notebook_path(submissions / student, row.lesson)
            path.parent.mkdir(parents=True)
            nbformat.write(notebook, path)
        grading_out = Path(out) / "grading" if out else Path(tmp) / "grading"
        grading = grade_class(submissions, grading_out, lessons=sorted({r.lesson
                                                                        for r in chosen}),
                              jobs=jobs, progress=lambda *args: None, regrade=True)
    tests = {lesson: exercises(nbformat.read(notebook_path(SOLUTIONS, lesson), as_version=4))
             for lesson in {r.lesson for r in chosen}}
    disagreements = []
    for result in grading.results:
        row = students[result.student]
        own = tests[row.lesson][row.mutant.cell]
        lost = [g for g in own if result.scores[g][0] < result.scores[g][1]]
        said = row.verdict
        if said.status == SURVIVED and lost:
            disagreements.append(f"{row.lesson} {row.mutant.id}: the audit says it survived; "
                                 f"grading took points off {lost}")
        elif said.status != SURVIVED and said.by not in lost:
            disagreements.append(f"{row.lesson} {row.mutant.id}: the audit says {said.by} "
                                 f"kills it; grading took points off {lost or 'nothing'}")
    return disagreements
