"""One submission, graded in a worker process: repaired, autograded on a sandboxed kernel in a
folder and a gradebook of its own, scored and flagged.

Tasks share nothing (each copies the course's template gradebook beside its own folder, which
its kernel cannot see), so the order and the number of workers cannot change a grade.
"""

import functools
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from nncourse.course import notebook_path
from nncourse.grading import nbgrader
from nncourse.grading.repair import read_submission, repair
from nncourse.grading.report import located_flags


@dataclass
class Result:
    """One student's grade for one lesson, and what the instructor should look at."""
    student: str
    lesson: str
    work: Path = None  # the folder it was graded in (None: graded in an earlier run)
    # grade_id -> (score, max_score); score None: a written answer awaits a person's grade
    scores: dict = field(default_factory=dict)
    flags: list = field(default_factory=list)
    comments: dict = field(default_factory=dict)  # grade_id of an answer -> auto comment
    failure: str = ""  # the log of nbgrader when it could not grade the notebook at all
    graded_now: bool = True  # False: unchanged since an earlier run, which graded it
    fingerprint: str = ""  # what was graded (nncourse.grading.state.fingerprint)

    @property
    def autograded(self):
        return self.work / "autograded" / self.student / self.lesson

    @property
    def score(self):
        """The points given so far (a written answer counts once a person graded it)."""
        return sum(s for s, _ in self.scores.values() if s is not None)

    @property
    def awaiting(self):
        """[(grade_id, max_score)] of the written answers that await a person's grade."""
        return nbgrader.awaiting(self.scores)

    @property
    def max_score(self):
        return sum(m for _, m in self.scores.values())


def start(log_folder):
    """Send what kernels and nbgrader print to a file, not into the instructor's terminal."""
    log = os.open(log_folder / f"worker-{os.getpid()}.log", os.O_WRONLY | os.O_CREAT, 0o600)
    os.dup2(log, 1)
    os.dup2(log, 2)


@functools.lru_cache
def _released(path):
    """The released notebook, read once per worker (repair copies what it takes from it)."""
    return nbformat.read(path, 4)


@functools.lru_cache
def _rubrics(path):
    """{grade_id: rubric} of the written answers of a lesson's source notebook (the
    instructor's: the release has no rubric), read once per worker."""
    return {nbgrader.grade_id(c): nbgrader.rubric(c) for c in nbformat.read(path, 4).cells
            if nbgrader.is_written_answer(c)}


def forget_lessons():
    """Forget the lessons read so far (a Dask task reads its lesson from a temporary folder
    whose path a later task may get again, with another lesson in it)."""
    _released.cache_clear()
    _rubrics.cache_clear()


def grade_one(submission, out, limits):
    """Grade one submission in its own folder OUT/work/<lesson>/<student>; return a Result.

    OUT holds the course (OUT/course/release/) and the template gradebook (OUT/template.db).
    Never raises for bad input: a file that is not a notebook is graded as the blank release.
    """
    lesson, student = submission.lesson, submission.student
    work = out / "work" / lesson / student
    database = work.with_suffix(".db")  # beside the folder the kernel sees, not in it
    work.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(out / "template.db", database)
    result = Result(student, lesson, work=work)
    released = _released(notebook_path(out / "course" / "release", lesson))
    notebook, problem = read_submission(submission.path)
    if notebook is None:
        result.flags.append(problem)
        notebook = released  # graded as if blank: every test fails, nothing crashes
    else:
        notebook, notes = repair(notebook, released)
        result.flags.extend(notes)
    target = notebook_path(work / "submitted" / student, lesson)
    target.parent.mkdir(parents=True)
    nbformat.write(notebook, target)
    failure = nbgrader.autograde(work, f"sqlite:///{database}", lesson, student, limits)
    if failure:  # kept beside the results (OUT/work is emptied by the next run)
        log = out / "logs" / lesson / f"{student}.log"
        log.parent.mkdir(parents=True, exist_ok=True)
        log.write_text(failure)
        result.failure = str(log)
        result.flags.append(f"nbgrader could not grade this notebook: see {log}")
    result.scores = nbgrader.scores(f"sqlite:///{database}", lesson, student)
    result.comments = nbgrader.auto_comments(f"sqlite:///{database}", lesson, student)
    autograded = notebook_path(result.autograded.parent, lesson)
    graded, located = notebook, []  # nbgrader failed: the flags of the notebook it was given
    if autograded.exists():
        graded = nbformat.read(autograded, 4)
        located = located_flags(graded)
    result.flags.extend(dict.fromkeys(flag for flag, _ in located))
    _comment(result, graded, located)
    for answer, rubric in _rubrics(notebook_path(out / "course" / "source", lesson)).items():
        if rubric:  # for the grader, in formgrader; feedback leaves it out (nbgrader.py)
            text = result.comments.get(answer)
            result.comments[answer] = f"{text}\n\n{rubric}" if text else rubric
    return result


def _comment(result, notebook, located):
    """Add each flag to the comment of the answer it concerns, for formgrader: the answer at
    or above the cell that raised it (a test cell tests the answer above it); the notebook's
    first answer for a flag of the whole notebook (a repair note, a file that was no notebook).
    Flags go to code answers (what runs), to a written answer only in a notebook without code
    answers.
    """
    answers = [i for i, cell in enumerate(notebook.cells)
               if nbgrader.is_solution(cell) and cell.cell_type == "code"] or \
        [i for i, cell in enumerate(notebook.cells) if nbgrader.is_solution(cell)]
    if not answers:
        return
    where = {}
    for flag, index in located:
        above = [i for i in answers if i <= index]
        where.setdefault(flag, above[-1] if above else answers[0])
    for flag in result.flags:
        cell = nbgrader.grade_id(notebook.cells[where.get(flag, answers[0])])
        text = result.comments.get(cell)
        result.comments[cell] = f"{text}\n{flag}" if text else flag
