"""Grade a class: the real nbgrader autograde, one student and lesson at a time, in parallel.

nbgrader has no parallel autograde, and SQLite does not take concurrent writers well, so:
1. The course is set up once in OUT/course: the lessons' sources are copied there and
   `nbgrader generate_assignment` records them in the gradebook (OUT/gradebook.db, or any
   SQLAlchemy URL) and in a private template gradebook.
2. Each submission is graded by nbgrader's Autograde in a pool of worker processes (one per
   job, each importing nbgrader once), in a folder of its own, OUT/work/<lesson>-<n>, with
   its own copy of the template gradebook beside that folder. The submission is first
   repaired (nncourse.repair) and runs on a fresh sandboxed kernel (nncourse.sandbox) whose
   only writable and visible grading folder is its own: no gradebook, no classmate. Tasks
   share nothing, so the order and the number of jobs cannot change a grade.
3. The main process alone writes the class gradebook: it copies each worker's scores into it,
   in a fixed order, and copies the autograded notebooks into OUT/course/autograded.
4. `nbgrader generate_feedback` and `nbgrader export` then run on the class gradebook.
"""

import contextlib
import functools
import json
import logging
import multiprocessing
import multiprocessing.forkserver
import os
import shutil
import subprocess
import sys
import warnings
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
from nbconvert.preprocessors import ClearMetadataPreprocessor
from nbgrader.api import Gradebook
from nbgrader.converters import Autograde, GenerateAssignment
from nbgrader.coursedir import CourseDirectory
from nbgrader.preprocessors import (
    AssignLatePenalties,
    CheckCellMetadata,
    IgnorePattern,
    LimitOutput,
    SaveAutoGrades,
)
from nbgrader.utils import capture_log
from sqlalchemy.exc import SAWarning
from traitlets.config import Config

from nncourse.repair import read_submission, repair
from nncourse.sandbox import KERNEL_DIED, NOTEBOOK_TIME_LIMIT, ResilientExecute, bubblewrap
from nncourse.submissions import find_submissions

ROOT = Path(__file__).resolve().parents[1]
CELL_TIMEOUT_S = 30
MEMORY_MB = 6000  # address space of a kernel; TensorFlow (lesson 05) needs a few GB of it
NOTEBOOK_TIMEOUT_S = 600  # all of a notebook's cells (many slow cells, each under CELL_TIMEOUT_S)
COURSE_ID = "nncourse"
_LOG = logging.getLogger("nncourse.nbgrader")
_LOG.propagate = False  # nbgrader's failures are raised or written to OUT/work/<lesson>-<n>.log


def lessons_in(root=ROOT):
    """The lessons: folders solutions/<lesson>/<lesson>.ipynb, sorted."""
    return sorted(p.parent.name for p in (root / "solutions").glob("*/*.ipynb")
                  if p.stem == p.parent.name)


@dataclass
class Result:
    """One student's grade for one lesson, and what the instructor should look at."""
    student: str
    lesson: str
    work: Path = None  # the folder it was graded in
    scores: dict = field(default_factory=dict)  # grade_id -> (score, max_score)
    flags: list = field(default_factory=list)

    @property
    def autograded(self):
        return self.work / "autograded" / self.student / self.lesson

    @property
    def score(self):
        return sum(s for s, _ in self.scores.values())

    @property
    def max_score(self):
        return sum(m for _, m in self.scores.values())


@contextlib.contextmanager
def _scripts_on_path():
    """The commands installed beside this Python first on PATH (nbgrader runs `alembic`
    when it creates a gradebook), even when the virtual environment is not activated."""
    saved = os.environ.get("PATH", "")
    os.environ["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{saved}"
    try:
        yield
    finally:
        os.environ["PATH"] = saved


def _nbgrader(args, cwd, timeout=None):
    """Run nbgrader (the one beside this Python) in `cwd`; return the finished process."""
    with _scripts_on_path():
        return subprocess.run([sys.executable, "-m", "nbgrader", *args], cwd=cwd,
                              capture_output=True, text=True, timeout=timeout)


def _write_config(course, db_url):
    """course/nbgrader_config.py, for the nbgrader commands run there (feedback, export)."""
    settings = _config(course, db_url).CourseDirectory
    (course / "nbgrader_config.py").write_text("c = get_config()  # noqa: F821\n" + "".join(
        f"c.CourseDirectory.{name} = {value!r}\n" for name, value in settings.items()))


def _config(root, db_url):
    """nbgrader's configuration of a course folder: where it is and its gradebook."""
    config = Config()
    config.CourseDirectory.root = str(root)
    config.CourseDirectory.course_id = COURSE_ID
    config.CourseDirectory.db_url = db_url
    config.CourseDirectory.source_directory = "source"
    config.CourseDirectory.release_directory = "release"
    return config


def _convert(converter, config, **ids):
    """Run an nbgrader converter (its command, e.g. `nbgrader autograde`) in this process.

    ids: the CourseDirectory's assignment_id and student_id. Returns None, or nbgrader's log
    and traceback when it failed.
    """
    app = converter(coursedir=CourseDirectory(config=config, **ids), config=config, log=_LOG)
    app.force = True
    with _scripts_on_path():
        outcome = capture_log(app)
    return None if outcome["success"] else outcome.get("log", "") + outcome["error"]


def set_up_course(out, lessons, db_url):
    """OUT/course with the lessons generated into the class and the template gradebooks."""
    course = out / "course"
    for lesson in lessons:
        shutil.copytree(ROOT / "solutions" / lesson, course / "source" / lesson)
    template = out / "template.db"
    urls = [f"sqlite:///{template}"]
    if db_url != f"sqlite:///{out / 'gradebook.db'}":
        urls.append(db_url)  # another database: generate into it too
    for url in urls:
        for lesson in lessons:
            failure = _convert(GenerateAssignment, _config(course, url), assignment_id=lesson)
            if failure:
                raise RuntimeError(f"nbgrader generate_assignment {lesson} failed:\n"
                                   f"{failure[-4000:]}")
    if len(urls) == 1:
        shutil.copy(template, out / "gradebook.db")  # the same as generating it again
    _write_config(course, db_url)
    return course


# nbgrader's autograde steps, with Execute replaced by the sandboxed, resilient one.
AUTOGRADE_STEPS = [ResilientExecute, IgnorePattern, ClearMetadataPreprocessor, LimitOutput,
                   SaveAutoGrades, AssignLatePenalties, CheckCellMetadata]


@dataclass(frozen=True)
class Limits:
    """What a submission's kernel may use and see."""
    cell_s: int = CELL_TIMEOUT_S
    notebook_s: int = NOTEBOOK_TIMEOUT_S
    memory_mb: int = MEMORY_MB
    hidden: tuple = ()  # folders the kernel must not see
    readable: tuple = ()  # folders inside hidden ones it may read


def autograde(work, db_url, lesson, student, limits):
    """nbgrader's Autograde of work/submitted/<student>/<lesson>, in this process.

    Returns None, or nbgrader's log when it could not grade the notebook.
    """
    config = _config(work, db_url)
    config.Autograde.autograde_preprocessors = AUTOGRADE_STEPS
    config.Execute.timeout = limits.cell_s
    config.Execute.shutdown_kernel = "immediate"  # nothing to save: do not wait for it
    config.ResilientExecute.notebook_timeout = limits.notebook_s
    config.SandboxedKernelManager.memory_limit_mb = limits.memory_mb
    config.SandboxedKernelManager.hidden = list(limits.hidden)
    config.SandboxedKernelManager.readable = list(limits.readable)
    return _convert(Autograde, config, assignment_id=lesson, student_id=student)


def _start_worker(log_folder):
    """Send what kernels and nbgrader print to a file, not into the instructor's terminal."""
    log = os.open(log_folder / f"worker-{os.getpid()}.log", os.O_WRONLY | os.O_CREAT, 0o600)
    os.dup2(log, 1)
    os.dup2(log, 2)


@functools.lru_cache
def _released(path):
    """The released notebook, read once per worker (repair copies what it takes from it)."""
    return nbformat.read(path, 4)


def grade_one(index, submission, out, limits):
    """Grade one submission in its own folder OUT/work/<lesson>-<index>; return a Result.

    Never raises for bad input: a file that is not a notebook is graded as the blank release.
    """
    lesson, student = submission.lesson, submission.student
    work = out / "work" / f"{lesson}-{index:04d}"
    database = work.with_suffix(".db")  # beside the folder the kernel sees, not in it
    shutil.copy(out / "template.db", database)
    result = Result(student, lesson, work=work)
    released = _released(out / "course" / "release" / lesson / f"{lesson}.ipynb")
    notebook, problem = read_submission(submission.path)
    if notebook is None:
        result.flags.append(problem)
        notebook = released  # graded as if blank: every test fails, nothing crashes
    else:
        notebook, notes = repair(notebook, released)
        result.flags.extend(notes)
    target = work / "submitted" / student / lesson / f"{lesson}.ipynb"
    target.parent.mkdir(parents=True)
    nbformat.write(notebook, target)
    failure = autograde(work, f"sqlite:///{database}", lesson, student, limits)
    if failure:
        work.with_suffix(".log").write_text(failure)
        result.flags.append(f"nbgrader could not grade this notebook: see {work}.log")
    result.scores = _scores(database, lesson, student)
    autograded = result.autograded / f"{lesson}.ipynb"
    if autograded.exists():
        result.flags.extend(_flags_from_outputs(nbformat.read(autograded, 4)))
    return result


def _scores(db_path, lesson, student):
    """{grade_id: (score, max_score)} from a gradebook; 0 for anything not graded."""
    with Gradebook(f"sqlite:///{db_path}", COURSE_ID) as gb:
        assignment = gb.find_assignment(lesson)
        scores = {}
        for notebook in assignment.notebooks:
            for cell in notebook.grade_cells:
                try:
                    grade = gb.find_grade(cell.name, notebook.name, lesson, student)
                    score = grade.score or 0.0
                except Exception:  # no submission recorded: nbgrader failed before grading
                    score = 0.0
                scores[cell.name] = (float(score), float(cell.max_score))
    return scores


# The instructor's flags, read from the errors in the graded notebook.
_FLAG_PATTERNS = [
    ("CellTimeoutError", "a cell ran longer than the time limit (an endless loop?)"),
    (NOTEBOOK_TIME_LIMIT, "the notebook ran longer than its time limit; later cells were not run"),
    (KERNEL_DIED, "the kernel died in a cell (os._exit, a crash, or memory)"),
    ("MemoryError", "a cell ran out of memory"),
    ("called nnlib", "an answer called nnlib instead of computing the result: review"),
    ("were replaced in this kernel", "NumPy or nnlib was patched: review"),
    ("which would switch this check off", "an answer tried to switch off the tests' checks: "
     "review"),
]


def _flags_from_outputs(notebook):
    flags = []
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            text = json.dumps(output)
            for needle, flag in _FLAG_PATTERNS:
                if needle in text and flag not in flags:
                    flags.append(flag)
            if output.get("output_type") == "stream" and "truncated" in output.get("text", ""):
                if "very long output (truncated)" not in flags:
                    flags.append("very long output (truncated)")
    return flags


def record(gb, result, out):
    """Copy a worker's scores into the class gradebook and its notebook into the course."""
    gb.update_or_create_student(result.student)
    gb.update_or_create_submission(result.lesson, result.student)
    for notebook in gb.find_assignment(result.lesson).notebooks:
        for cell in notebook.grade_cells:
            grade = gb.find_grade(cell.name, notebook.name, result.lesson, result.student)
            grade.auto_score = result.scores.get(cell.name, (0.0, 0.0))[0]
            grade.manual_score = None
            grade.needs_manual_grade = False
    gb.db.commit()
    target = out / "course" / "autograded" / result.student / result.lesson
    shutil.rmtree(target, ignore_errors=True)
    if result.autograded.exists():
        shutil.copytree(result.autograded, target)


MARKER = ".nncourse-grading"  # marks a folder that grade_class may empty and reuse


def _clear(out):
    """Empty OUT if it is a previous grading folder (or new); refuse any other folder."""
    if out.exists() and any(out.iterdir()) and not (out / MARKER).exists():
        raise FileExistsError(f"{out} is not empty and was not made by `nncourse grade`: "
                              "give --out a new folder (nothing in it will be kept)")
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    (out / MARKER).write_text("made by nncourse grade; emptied at each grading\n")


def grade_class(source, out, lessons=None, jobs=None, db_url=None, timeout=CELL_TIMEOUT_S,
                memory_mb=MEMORY_MB, notebook_timeout=NOTEBOOK_TIMEOUT_S, progress=print):
    """Grade every submission under `source`; return (results, skipped files, course dir)."""
    out = Path(out).resolve()
    lessons = lessons or lessons_in()
    unknown = sorted(set(lessons) - set(lessons_in()))
    if unknown:
        raise ValueError(f"Unknown lesson(s) {unknown}; expected some of {lessons_in()}")
    _clear(out)  # grading twice gives the same gradebook
    db_url = db_url or f"sqlite:///{out / 'gradebook.db'}"
    submissions, skipped = find_submissions(source, lessons, unpack_to=out / "unpacked")
    if bubblewrap() is None:
        progress("warning: bubblewrap (bwrap) is not installed, so student code runs without "
                 "the file-system and network sandbox (memory limit only).")
    # Workers fork from a forkserver: a clean process (the caller may run threads, e.g. in
    # TensorFlow) that imports nbgrader once. It starts now, importing while the course is set up.
    multiprocessing.set_forkserver_preload([__name__])
    multiprocessing.forkserver.ensure_running()
    course = set_up_course(out, lessons, db_url)
    source = Path(source).resolve()
    limits = Limits(cell_s=timeout, notebook_s=notebook_timeout, memory_mb=memory_mb,
                    hidden=tuple(sorted({str(ROOT), str(out),  # a zip: its whole folder
                                         str(source if source.is_dir() else source.parent)})),
                    readable=(str(ROOT / "nnlib"), str(ROOT / "nncourse")))
    (out / "work").mkdir()
    results, failures = {}, 0
    jobs = max(1, min(jobs or os.cpu_count() or 1, len(submissions)))
    context = multiprocessing.get_context("forkserver")
    with ProcessPoolExecutor(jobs, mp_context=context, initializer=_start_worker,
                             initargs=(out / "work",)) as pool:
        futures = [pool.submit(grade_one, index, submission, out, limits)
                   for index, submission in enumerate(submissions)]
        for future in as_completed(futures):
            result = future.result()
            results[(result.student, result.lesson)] = result
            failures += bool(result.flags)
            progress(f"[{len(results)}/{len(submissions)}] {result.student} "
                     f"{result.lesson}: {result.score:g}/{result.max_score:g}"
                     f"{'  (flagged)' if result.flags else ''}   flagged so far: {failures}")
    ordered = [results[key] for key in sorted(results)]
    with Gradebook(db_url, COURSE_ID) as gb, warnings.catch_warnings():
        # nbgrader's own update_or_create_submission trips an SQLAlchemy autoflush warning
        warnings.simplefilter("ignore", category=SAWarning)
        for result in ordered:
            record(gb, result, out)
    return ordered, skipped, course
