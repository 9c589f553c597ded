"""Grade a class: the real nbgrader autograde, one student and lesson at a time, in parallel,
into a grading folder OUT that keeps its results from run to run.

nbgrader has no parallel autograde, and SQLite does not take concurrent writers well, so:
1. Everything an instructor gives (SUBMISSIONS, lessons, OUT, the gradebook's URL) is checked
   before OUT is touched: a mistake is a UsageError and changes nothing.
2. The course is set up in OUT/course: the lessons' sources are copied there and generated
   into a template gradebook (OUT/template.db) and into the class gradebook
   (OUT/gradebook.db, or any SQLAlchemy URL), which keeps its grades.
3. Only submissions that are new or changed since they were graded (nncourse.grading.state)
   are graded, in a pool of worker processes (nncourse.grading.worker), each in a folder and a
   gradebook of its own under OUT/work (this run's scratch), on a sandboxed kernel
   (nncourse.grading.sandbox) that sees only that folder; or, the same way, as tasks on a Dask
   cluster (nncourse.grading.cluster), whose outcomes are unpacked into OUT/work.
4. The main process alone writes the class gradebook: it copies each worker's scores, comments
   and flags into it (keeping what graders gave by hand in formgrader), and the autograded
   notebooks into OUT/course/autograded; then exports the whole gradebook to OUT/grades.csv
   and its flags to OUT/flags.csv. Feedback reports are made by the caller
   (nncourse.grading.nbgrader.feedback), for what was graded now.

    OUT/gradebook.db  grades.csv  flags.csv  graded.json (state)  .nncourse-grading (marker)
    OUT/course/{source,release,submitted,autograded,feedback}/   nbgrader's course folder
    OUT/logs/<lesson>/<student>.log   nbgrader's log of a notebook it could not grade
    OUT/work/   OUT/template.db   this run's scratch, remade by the next run

This package imports nothing heavy at import time (nbgrader takes seconds): `grade_class`
imports the grading machinery when it is called.
"""

import dataclasses
import multiprocessing
import multiprocessing.forkserver
import os
import shutil
import tempfile
import zipfile
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path
from typing import NamedTuple

from nncourse.course import ROOT, SOLUTIONS, notebook_path
from nncourse.course import lessons as all_lessons
from nncourse.grading import state
from nncourse.grading.limits import DEFAULT
from nncourse.grading.submissions import find_submissions


class UsageError(ValueError):
    """A mistake in what the instructor asked for (a missing folder, an unknown lesson, ...),
    found before anything was written: the message says what to fix."""


class Grading(NamedTuple):
    """What grade_class made: a Result per submission of the class (graded now or kept from
    an earlier run: Result.graded_now), the files it skipped, the course folder (OUT/course)
    and the class gradebook's URL."""
    results: list
    skipped: list
    course: Path
    db_url: str


def grade_class(source, out, lessons=None, jobs=None, db_url=None, limits=DEFAULT,
                progress=print, regrade=False, reset_manual=False, roster=None,
                lessons_from=SOLUTIONS, cluster=None):
    """Grade the new and changed submissions under `source` into the folder `out`; return a
    Grading of the whole class.

    lessons: the lessons to grade (default: all); jobs: worker processes (default: one per
    core); cluster: grade on Dask instead, "local:N" (a LocalCluster of N worker processes
    started for this grading) or the address of a running Dask scheduler; limits: what each
    kernel may use (its hidden and readable folders are set here);
    regrade: grade every submission again; reset_manual: also drop the scores and comments
    given by hand in formgrader (implies regrade); lessons_from: the folder of the lessons'
    source notebooks, <lesson>/<lesson>.ipynb (default: solutions/; a test grades a changed
    copy of a lesson). Raises UsageError, having touched nothing, when the request cannot be
    carried out.
    """
    out, source = Path(out).resolve(), Path(source).resolve()
    names = lessons or all_lessons()
    default_db = f"sqlite:///{out / 'gradebook.db'}"
    db_url = db_url or default_db
    lessons_from = Path(lessons_from).resolve()
    _check(source, out, names, db_url if db_url != default_db else None, lessons_from, jobs,
           cluster)
    with tempfile.TemporaryDirectory(prefix="nncourse-unpacked-") as unpacked:
        try:
            submissions, skipped = find_submissions(source, names, unpack_to=Path(unpacked),
                                                    roster=roster)
        except zipfile.BadZipFile as error:
            raise UsageError(f"{source}: {error}") from None
        except (ValueError, FileNotFoundError) as error:  # e.g. a roster that cannot be read
            raise UsageError(str(error)) from None
        if not submissions:
            reasons = "; ".join(f"{s.path}: {s.reason}" for s in skipped[:3])
            raise UsageError(f"nothing to grade in {source}: no notebook of a lesson among "
                             f"{sorted(names)} was found" + (f" ({reasons})" if reasons else ""))
        state.claim(out)
        limits = sealed(limits, out, unpacked,  # a zip: the folder it is unpacked in
                        source if source.is_dir() else source.parent)
        return _grade(submissions, skipped, out, names, db_url, default_db, limits, jobs,
                      cluster, progress, regrade or reset_manual, reset_manual, lessons_from)


def sealed(limits, *folders):
    """limits with the folders a kernel must not see: the course repository and `folders`
    (the grading folder, the class's...); of the repository, nnlib and nncourse stay readable."""
    return dataclasses.replace(
        limits, hidden=tuple(sorted({str(ROOT), *map(str, folders)})),
        readable=(str(ROOT / "nnlib"), str(ROOT / "nncourse")))


def _check(source, out, names, db_url, lessons_from, jobs, cluster):
    """Raise UsageError for anything wrong in the request, before OUT is touched.

    db_url: the gradebook given by the instructor, or None for the default one in OUT."""
    from nncourse.grading import cluster as dask_cluster
    from nncourse.grading import nbgrader

    unknown = sorted(set(names) - set(all_lessons()))
    if unknown:
        raise UsageError(f"unknown lesson(s) {unknown}; expected some of {all_lessons()}")
    missing = [str(notebook_path(lessons_from, n)) for n in names
               if not notebook_path(lessons_from, n).is_file()]
    if missing:
        raise UsageError(f"no source notebook {', '.join(missing)}")
    if not source.exists():
        raise UsageError(f"no folder or .zip of submissions at {source}")
    if not (source.is_dir() or source.suffix == ".zip"):
        raise UsageError(f"{source} is neither a folder nor a .zip of submissions")
    if cluster and jobs:
        raise UsageError("--jobs is the number of processes on this machine: on a Dask cluster "
                         "the workers grade (give one or the other)")
    try:
        state.check_out(out)
        if db_url:  # None: the default gradebook in OUT, made when OUT is
            nbgrader.check_database(db_url)
        if cluster and dask_cluster.local_workers(cluster) is None:
            dask_cluster.check_scheduler(cluster)
    except ValueError as error:
        raise UsageError(str(error)) from None


def _grade(submissions, skipped, out, names, db_url, default_db, limits, jobs, cluster,
           progress, regrade, reset_manual, lessons_from):
    """Grade what changed into OUT and record it; return the Grading of the whole class."""
    from nncourse.grading import nbgrader, worker
    from nncourse.grading.report import write_flags_csv

    earlier = state.load(out, db_url) if _exists(db_url, default_db) else {}
    todo = []
    sources = {lesson: state.digest(notebook_path(lessons_from, lesson)) for lesson in names}
    for submission in submissions:
        fingerprint = state.fingerprint(submission.path, sources[submission.lesson])
        entry = earlier.get((submission.student, submission.lesson))
        if regrade or entry is None or entry["fingerprint"] != fingerprint:
            todo.append((submission, fingerprint))
    course = out / "course"
    graded = []
    if todo:  # else nothing to set up: a re-run of an unchanged class takes seconds
        if not cluster:
            _start_workers(progress)
        _set_up(course, out, names, db_url, default_db, lessons_from)
        graded = _grade_todo(todo, out, limits, jobs, cluster, progress)
    # nbgrader could not grade a notebook? Its earlier grade and graded notebook are kept;
    # it is reported (flags, exit status) and tried again by the next run.
    recorded = [r for r in graded if not r.failure]
    nbgrader.record(db_url, recorded, reset_manual=reset_manual)
    for result in recorded:  # what feedback and formgrader read: the notebook as graded
        for folder in ("submitted", "autograded"):  # (repaired) and with its outputs
            target = course / folder / result.student / result.lesson
            shutil.rmtree(target, ignore_errors=True)
            made = result.work / folder / result.student / result.lesson
            if made.exists():
                shutil.copytree(made, target)
    state.save(out, db_url, graded, earlier)
    now = {(r.student, r.lesson) for r in graded}
    kept = [worker.Result(e["student"], e["lesson"], flags=e["flags"], graded_now=False,
                          fingerprint=e["fingerprint"])
            for key, e in earlier.items() if key not in now]  # every lesson's
    nbgrader.export(db_url, out / "grades.csv")  # the whole gradebook, and all its flags
    write_flags_csv([*graded, *kept], out / "flags.csv")
    results = sorted((r for r in [*graded, *kept] if r.lesson in names),
                     key=lambda r: (r.student, r.lesson))
    scores = nbgrader.class_scores(db_url, [(r.student, r.lesson) for r in results])
    for result in results:  # the gradebook's scores: manual scores included
        result.scores = scores[(result.student, result.lesson)]
    return Grading(results, skipped, course, db_url)


def _set_up(course, out, names, db_url, default_db, lessons_from):
    """OUT/course/source and release of the lessons, fresh from lessons_from (solutions/);
    the template gradebook; the class gradebook, created or brought up to date (its grades
    are kept)."""
    from nncourse.grading import nbgrader

    for lesson in names:  # a fresh copy of solutions/<lesson>: the tests may have changed
        shutil.rmtree(course / "source" / lesson, ignore_errors=True)
        shutil.copytree(lessons_from / lesson, course / "source" / lesson)
    nbgrader.generate(course, names, f"sqlite:///{out / 'template.db'}")
    if db_url == default_db and not (out / "gradebook.db").exists():
        shutil.copy(out / "template.db", out / "gradebook.db")  # as generating it again
    else:
        nbgrader.generate(course, names, db_url)
    shutil.rmtree(out / "work", ignore_errors=True)  # the scratch of the previous run
    (out / "work").mkdir()


def _exists(db_url, default_db):
    """False when the default gradebook file was removed: what graded.json says is gone."""
    return db_url != default_db or Path(db_url.removeprefix("sqlite:///")).exists()


def _start_workers(progress):
    """Start the forkserver the grading workers fork from, importing them meanwhile."""
    from nncourse.grading import worker
    from nncourse.grading.sandbox import bubblewrap

    if bubblewrap() is None:
        progress("warning: bubblewrap (bwrap) is not installed, so student code runs without "
                 "the file-system and network sandbox (memory limit only).")
    # Workers fork from a forkserver: a clean process (the caller may run threads, e.g. in
    # TensorFlow) that imports the worker once. It starts now, importing while the course is
    # set up.
    multiprocessing.set_forkserver_preload([worker.__name__])
    multiprocessing.forkserver.ensure_running()


def _grade_todo(todo, out, limits, jobs, cluster, progress):
    """Grade each (submission, fingerprint) of todo in worker processes or on a Dask cluster,
    saying [i/n] as each is done; return the Results."""
    from nncourse.grading import cluster as dask_cluster
    from nncourse.grading.report import awaiting_text

    results, flagged = [], 0

    def done(result):
        nonlocal flagged
        results.append(result)
        flagged += bool(result.flags)
        waiting = awaiting_text(result)
        progress(f"[{len(results)}/{len(todo)}] {result.student} "
                 f"{result.lesson}: {result.score:g}/{result.max_score:g}"
                 f"{f', {waiting}' if waiting else ''}"
                 f"{'  (flagged)' if result.flags else ''}   flagged so far: {flagged}")

    if cluster:
        dask_cluster.grade_on_cluster(todo, out, limits, cluster, progress, done)
    else:
        _grade_in_workers(todo, out, limits, jobs, done)
    return sorted(results, key=lambda r: (r.student, r.lesson))


def _grade_in_workers(todo, out, limits, jobs, done):
    """Grade each (submission, fingerprint) in a local worker process: done(result) for each."""
    from nncourse.grading import worker

    jobs = max(1, min(jobs or os.cpu_count() or 1, len(todo)))
    context = multiprocessing.get_context("forkserver")
    with ProcessPoolExecutor(jobs, mp_context=context, initializer=worker.start,
                             initargs=(out / "work",)) as pool:
        futures = {pool.submit(worker.grade_one, submission, out, limits): fingerprint
                   for submission, fingerprint in todo}
        for future in as_completed(futures):
            result = future.result()
            result.fingerprint = futures[future]
            done(result)
