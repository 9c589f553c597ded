"""`nncourse check NOTEBOOK ...`: a learner grades their own notebooks before handing them in.

Each notebook is graded exactly as `nncourse grade` grades a class (the same repair, sandboxed
kernel, limits, public and hidden tests, nbgrader's scoring), in a temporary folder that is
removed afterwards. What the learner is told is what the feedback report would tell them: the
score of each exercise, each failed test's message (for a hidden test, its error line only:
a traceback would quote the test's code) and the flags. Written answers await a person.
"""

import functools
import tempfile
from pathlib import Path
from typing import NamedTuple

from nncourse.course import RELEASE, exercises, lessons, notebook_path


class Checked(NamedTuple):
    """One notebook checked: its path, its lesson, the grading's Result (scores per graded
    cell: grade_id -> (score, max_score), score None awaiting a person; flags) and the
    failures: [(grade_id, hidden, message)]."""
    path: Path
    lesson: str
    result: object
    failures: list


def lesson_of(path):
    """The lesson a learner's notebook belongs to: its file name's, or else the lesson whose
    graded cells it shares most. ValueError (one line) for a file that is none of them."""
    import nbformat

    from nncourse.grading.nbgrader import grade_id

    path = Path(path)
    if path.stem in lessons():
        return path.stem
    try:
        cells = nbformat.read(path, as_version=4).cells
    except Exception as error:  # not JSON, not a notebook: say so, in one line
        raise ValueError(f"{path} is not a notebook that can be read ({error})") from None
    ids = {grade_id(c) for c in cells if c.get("metadata", {}).get("nbgrader")}
    shared = {lesson: len(ids & set(_released(lesson).graded)) for lesson in lessons()}
    best = max(shared, key=shared.get)
    if not shared[best]:
        raise ValueError(f"{path} is not a lesson of this course (expected a notebook from "
                         f"lessons/, e.g. lessons/{best}/{best}.ipynb, or named after its "
                         "lesson)")
    return best


class _Release(NamedTuple):
    exercises: dict  # solution grade_id -> [grade_ids of its test cells]
    graded: dict  # grade_id -> the released cell (hidden tests: their cell's comment only)


@functools.lru_cache  # read once per lesson: every notebook checked may consult every lesson
def _released(lesson):
    import nbformat

    from nncourse.grading.nbgrader import grade_id, is_grade

    nb = nbformat.read(notebook_path(RELEASE, lesson), as_version=4)
    return _Release(exercises(nb), {grade_id(c): c for c in nb.cells if is_grade(c)})


def check(paths, jobs=None):
    """Grade each notebook of `paths` as `nncourse grade` would; return a Checked per path,
    in order. ValueError (one line) for a path that is not a lesson's notebook."""
    import shutil

    from nncourse.grading import grade_class

    paths = [Path(p) for p in paths]
    for path in paths:
        if not path.is_file():
            raise ValueError(f"no notebook at {path}")
    found = [lesson_of(path) for path in paths]
    with tempfile.TemporaryDirectory(prefix="nncourse-check-") as tmp:
        tmp = Path(tmp)
        for number, (path, lesson) in enumerate(zip(paths, found, strict=True)):
            target = notebook_path(tmp / "class" / f"notebook{number}", lesson)
            target.parent.mkdir(parents=True)
            shutil.copy(path, target)  # a copy: the grader never writes to the learner's file
        grading = grade_class(tmp / "class", tmp / "out", lessons=sorted(set(found)),
                              jobs=jobs, progress=lambda _: None)
        by_student = {r.student: r for r in grading.results}
        return [Checked(path, lesson, by_student[f"notebook{number}"],
                        _failures(grading.course, f"notebook{number}", lesson))
                for number, (path, lesson) in enumerate(zip(paths, found, strict=True))]


def _failures(course, student, lesson):
    """[(grade_id, hidden, message)] of the graded cells that failed, from the autograded
    notebook. A hidden test's message is its error line alone (as in the feedback report)."""
    import nbformat

    from nncourse.grading.nbgrader import grade_id, is_grade

    path = notebook_path(course / "autograded" / student, lesson)
    if not path.exists():  # nbgrader could not grade it: the flags say why
        return []
    failures = []
    for cell in nbformat.read(path, as_version=4).cells:
        errors = [o for o in cell.get("outputs", []) if o.get("output_type") == "error"]
        if is_grade(cell) and errors:
            hidden = "BEGIN HIDDEN TESTS" in cell.source
            error = errors[0]
            failures.append((grade_id(cell), hidden, f"{error['ename']}: {error['evalue']}"))
    return failures


def report(checked):
    """The text a learner reads for one Checked notebook: a line per exercise with its points,
    under it the messages of its failed tests (each message once, naming the tests it failed)."""
    result, release = checked.result, _released(checked.lesson)
    scores = result.scores
    waiting = sum(maximum for _, maximum in result.awaiting)
    total = sum(maximum for _, maximum in scores.values())
    lines = [f"{checked.path} ({checked.lesson}): {result.score:g} of {total:g} points"
             + (f"; {waiting:g} more await a person (written answers)" if waiting else "")]
    failed = {grade_id: (hidden, message) for grade_id, hidden, message in checked.failures}
    for exercise, tests in release.exercises.items():
        cells = tests or [exercise]  # a written answer is graded in its own cell
        worth = sum(scores[cell][1] for cell in cells)
        if any(scores[cell][0] is None for cell in cells):
            lines.append(f"  {exercise:<28} awaits a person ({worth:g} points)")
            continue
        got = sum(scores[cell][0] for cell in cells)
        if not tests and got == 0:  # nbgrader gives an answer left as released 0 at once
            lines.append(f"  {exercise:<28} {got:g}/{worth:g}  not answered yet")
            continue
        messages = {}  # message -> the tests that failed with it
        for cell in cells:
            if cell in failed:
                hidden, message = failed[cell]
                messages.setdefault(message, []).append(cell + (" (hidden)" if hidden else ""))
        if messages and all(m.startswith("NotImplementedError") for m in messages):
            lines.append(f"  {exercise:<28} {got:g}/{worth:g}  not done yet")
            continue
        lines.append(f"  {exercise:<28} {got:g}/{worth:g}")
        for message, names in messages.items():
            lines.append(f"      failed: {', '.join(names)}")
            lines.extend(f"        {line}" for line in message.splitlines())
    lines.extend(f"  flag: {flag}" for flag in result.flags)
    return "\n".join(lines)


def add_check(subparsers):
    from nncourse.cli import _positive_int

    parser = subparsers.add_parser(
        "check", help="grade your own lesson notebooks as the instructor's grading will",
        description="Grade each NOTEBOOK (a lesson you worked on) with its public and hidden "
                    "tests, on the same sandboxed kernel as `nncourse grade`, and print the "
                    "points of each exercise and the message of each failed test (never the "
                    "hidden tests' code). Your notebooks are not changed.")
    parser.add_argument("notebooks", type=Path, nargs="+", metavar="NOTEBOOK")
    parser.add_argument("--jobs", type=_positive_int, default=None,
                        help="notebooks graded at once (default: one per core)")
    parser.set_defaults(run=run_check, extra="course")


def run_check(args):
    import sys

    try:
        checked = check(args.notebooks, jobs=args.jobs)
    except ValueError as error:
        print(f"nncourse check: error: {error}", file=sys.stderr)
        return 2
    print("\n\n".join(report(c) for c in checked))
    return 0
