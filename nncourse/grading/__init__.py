"""Grade a class: the real nbgrader autograde, one student and lesson at a time, in parallel.

nbgrader has no parallel autograde, and SQLite does not take concurrent writers well, so:
1. The course is set up once in OUT/course: the lessons' sources are copied there and
   generated into the class gradebook (OUT/gradebook.db, or any SQLAlchemy URL) and into a
   template gradebook (OUT/template.db).
2. Each submission is graded in a pool of worker processes (nncourse.grading.worker), in a
   folder and a gradebook of its own, on a sandboxed kernel (nncourse.grading.sandbox) that sees
   only that folder.
3. The main process alone writes the class gradebook: it copies each worker's scores into it,
   in a fixed order, and copies the autograded notebooks into OUT/course/autograded.
Feedback reports and the CSV export are then made from the class gradebook
(nncourse.grading.nbgrader.feedback and .export).

This package imports nothing heavy at import time (nbgrader takes seconds): `grade_class`
imports the grading machinery when it is called.
"""

import dataclasses
import multiprocessing
import multiprocessing.forkserver
import os
import shutil
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path
from typing import NamedTuple

from nncourse.course import ROOT, copy_sources
from nncourse.course import lessons as all_lessons
from nncourse.grading.limits import DEFAULT
from nncourse.grading.submissions import find_submissions

MARKER = ".nncourse-grading"  # marks a folder that grade_class may empty and reuse


class Grading(NamedTuple):
    """What grade_class made: a Result per submission, the files it skipped, the course folder
    (OUT/course) and the class gradebook's URL."""
    results: list
    skipped: list
    course: Path
    db_url: str


def _clear(out):
    """Empty OUT if it is a previous grading folder (or new); refuse any other folder."""
    if out.exists() and any(out.iterdir()) and not (out / MARKER).exists():
        raise FileExistsError(f"{out} is not empty and was not made by `nncourse grade`: "
                              "give --out a new folder (nothing in it will be kept)")
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    (out / MARKER).write_text("made by nncourse grade; emptied at each grading\n")


def grade_class(source, out, lessons=None, jobs=None, db_url=None, limits=DEFAULT,
                progress=print, roster=None):
    """Grade every submission under `source` into the folder `out`; return a Grading.

    lessons: the lessons to grade (default: all); jobs: worker processes (default: one per
    core); limits: what each kernel may use (its hidden and readable folders are set here).
    """
    from nncourse.grading import nbgrader, worker
    from nncourse.grading.sandbox import bubblewrap

    out = Path(out).resolve()
    names = lessons or all_lessons()
    unknown = sorted(set(names) - set(all_lessons()))
    if unknown:
        raise ValueError(f"Unknown lesson(s) {unknown}; expected some of {all_lessons()}")
    _clear(out)  # grading twice gives the same gradebook
    db_url = db_url or f"sqlite:///{out / 'gradebook.db'}"
    submissions, skipped = find_submissions(source, names, unpack_to=out / "unpacked",
                                            roster=roster)
    if bubblewrap() is None:
        progress("warning: bubblewrap (bwrap) is not installed, so student code runs without "
                 "the file-system and network sandbox (memory limit only).")
    # Workers fork from a forkserver: a clean process (the caller may run threads, e.g. in
    # TensorFlow) that imports the worker once. It starts now, importing while the course is
    # set up.
    multiprocessing.set_forkserver_preload([worker.__name__])
    multiprocessing.forkserver.ensure_running()
    course = out / "course"
    copy_sources(course, names)
    template = out / "template.db"
    nbgrader.generate(course, names, f"sqlite:///{template}")
    if db_url == f"sqlite:///{out / 'gradebook.db'}":
        shutil.copy(template, out / "gradebook.db")  # the same as generating it again
    else:
        nbgrader.generate(course, names, db_url)  # another database: generate into it too
    source = Path(source).resolve()
    limits = dataclasses.replace(
        limits, hidden=tuple(sorted({str(ROOT), str(out),  # a zip: its whole folder
                                     str(source if source.is_dir() else source.parent)})),
        readable=(str(ROOT / "nnlib"), str(ROOT / "nncourse")))
    (out / "work").mkdir()
    results, flagged = {}, 0
    jobs = max(1, min(jobs or os.cpu_count() or 1, len(submissions)))
    context = multiprocessing.get_context("forkserver")
    with ProcessPoolExecutor(jobs, mp_context=context, initializer=worker.start,
                             initargs=(out / "work",)) as pool:
        futures = [pool.submit(worker.grade_one, index, submission, out, limits)
                   for index, submission in enumerate(submissions)]
        for future in as_completed(futures):
            result = future.result()
            results[(result.student, result.lesson)] = result
            flagged += bool(result.flags)
            progress(f"[{len(results)}/{len(submissions)}] {result.student} "
                     f"{result.lesson}: {result.score:g}/{result.max_score:g}"
                     f"{'  (flagged)' if result.flags else ''}   flagged so far: {flagged}")
    ordered = [results[key] for key in sorted(results)]
    nbgrader.record(db_url, ordered)
    for result in ordered:
        target = course / "autograded" / result.student / result.lesson
        if result.autograded.exists():
            shutil.copytree(result.autograded, target)
    return Grading(ordered, skipped, course, db_url)
