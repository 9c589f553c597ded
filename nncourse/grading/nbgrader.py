"""The one module that drives nbgrader: generate, autograde, feedback, export, gradebook reads
and writes, and the metadata of nbgrader's cells. Everything runs in this process, configured
with traitlets Config objects; nothing reads or writes an nbgrader_config.py.

A course folder has nbgrader's default layout, for releasing lessons and for grading alike:

    COURSE/source/<lesson>/<lesson>.ipynb             the instructor's notebook (solutions/)
    COURSE/release/<lesson>/<lesson>.ipynb            made by `generate`
    COURSE/submitted/<student>/<lesson>/<lesson>.ipynb   graded by `autograde` into
    COURSE/autograded/<student>/<lesson>/             and reported on by `feedback` in
    COURSE/feedback/<student>/<lesson>/<lesson>.html

The gradebook is any SQLAlchemy URL (`db_url`), usually sqlite:///<file>.

Written answers are nbgrader's manually graded answers: markdown cells that are both graded
and solution cells. Autograde leaves them for a person (no score, needs_manual_grade), except
an answer left as released, which nbgrader scores 0 ("No response."). A score read from the
gradebook is None while its answer awaits a person. The source notebook's cell holds a model
answer and, from a line starting with `**Rubric**`, the criteria: `rubric` reads them for the
grader's comment in formgrader; the feedback a learner gets leaves them out.
"""

import contextlib
import csv
import logging
import os
import socket
import sys
import warnings
from pathlib import Path

from nbconvert.preprocessors import (
    ClearMetadataPreprocessor,
    CSSHTMLHeaderPreprocessor,
    Preprocessor,
)
from nbgrader.api import Gradebook, MissingEntry
from nbgrader.converters import Autograde, GenerateAssignment, GenerateFeedback
from nbgrader.coursedir import CourseDirectory
from nbgrader.plugins import CsvExportPlugin
from nbgrader.preprocessors import (
    AssignLatePenalties,
    CheckCellMetadata,
    ClearHiddenTests,
    Execute,
    GetGrades,
    IgnorePattern,
    LimitOutput,
    SaveAutoGrades,
)
from nbgrader.utils import capture_log, is_grade, is_locked, is_solution
from sqlalchemy.exc import SAWarning
from traitlets import Bool
from traitlets.config import Config

from nncourse.grading.limits import CELL_TIMEOUT, MAX_OUTPUT_LINES, OUTPUT_TRUNCATED
from nncourse.grading.sandbox import Resilient
from nncourse.slides import is_speaker_notes

__all__ = ["COURSE_ID", "RUBRIC", "auto_comments", "autograde", "awaiting", "check_database",
           "class_scores", "export", "feedback", "generate", "grade_id", "is_grade", "is_locked",
           "is_solution", "is_written_answer", "max_points", "record", "rubric", "scores",
           "split_rubric", "without_rubric"]

COURSE_ID = "nncourse"
_LOG = logging.getLogger("nncourse.nbgrader")
_LOG.propagate = False  # failures are returned to the caller, which raises or logs them


# ------------------------------------------------------------------ nbgrader's cell metadata


def grade_id(cell):
    """The cell's nbgrader grade_id, or None for a cell nbgrader does not track."""
    return cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")


def max_points(cell):
    """The points a graded cell is worth."""
    return cell.metadata["nbgrader"]["points"]


RUBRIC = "**Rubric**"  # the line of a written answer's source where its rubric starts


def is_written_answer(cell):
    """Whether the cell is a written answer: nbgrader's manually graded answer, a markdown
    cell that is both graded and a solution."""
    return cell.cell_type == "markdown" and is_grade(cell) and is_solution(cell)


def split_rubric(text):
    """(what comes before the rubric, the rubric) of a written answer's text: the rubric runs
    from the first line that starts with `**Rubric**` to the end ("" if there is none)."""
    lines = text.splitlines()
    start = next((i for i, line in enumerate(lines) if line.lstrip().startswith(RUBRIC)),
                 len(lines))
    return "\n".join(lines[:start]).strip(), "\n".join(lines[start:]).strip()


def rubric(cell):
    """The rubric of a written answer's source cell ("" if it has none)."""
    return split_rubric(cell.source)[1]


def without_rubric(comment):
    """A comment without the rubric the grading added to it (see worker), for the learner."""
    return (split_rubric(comment)[0] or None) if comment else comment


def awaiting(scores):
    """[(grade_id, max_score)] of the answers in scores ({grade_id: (score, max_score)})
    that await a person's grade."""
    return [(g, maximum) for g, (score, maximum) in scores.items() if score is None]


# ------------------------------------------------------------------ preprocessors


class ResilientExecute(Resilient, Execute):
    """nbgrader's Execute on sandboxed kernels that survive a crash, within a notebook budget."""


class MarkedLimitOutput(LimitOutput):
    """nbgrader's LimitOutput that also marks each cell whose printed output it cut, in the
    cell's metadata (OUTPUT_TRUNCATED): a mark the student's code cannot set or fake."""

    def preprocess_cell(self, cell, resources, cell_index):
        before = [o.get("text") for o in cell.get("outputs", [])]
        cell, resources = super().preprocess_cell(cell, resources, cell_index)
        if [o.get("text") for o in cell.get("outputs", [])] != before:
            cell.metadata[OUTPUT_TRUNCATED] = True
        return cell, resources


class GetGradesForLearner(GetGrades):
    """nbgrader's GetGrades for feedback, without the rubric that the grading put in the
    comment of each written answer for the grader (nncourse.grading.worker): a learner never
    reads the rubric, before or after the answer is graded (a grader who wants to share it
    writes it in their own comment)."""

    def preprocess_cell(self, cell, resources, cell_index):
        cell, resources = super().preprocess_cell(cell, resources, cell_index)
        if "comment" in cell.metadata.get("nbgrader", {}):
            cell.metadata.nbgrader["comment"] = without_rubric(cell.metadata.nbgrader["comment"])
        return cell, resources


class HideHiddenTests(ClearHiddenTests):
    """nbgrader's ClearHiddenTests for feedback: removes the hidden tests' source from each test
    cell and cuts the traceback of their failures down to the error line ("CalledNnlib:
    cost(loss, Y, F) called ..."), because a traceback quotes the lines of the test that failed.
    A student sees what failed and why, not the test itself."""

    enforce_metadata = False  # the autograded notebook is already checked

    def preprocess_cell(self, cell, resources, cell_index):
        if self._remove_hidden_test_region(cell):
            for output in cell.get("outputs", []):
                if output.get("output_type") == "error":
                    output["traceback"] = [f"{output['ename']}: {output['evalue']}"]
        return cell, resources


class DropSpeakerNotes(Preprocessor):
    """Removes the lecturer's speaker notes (markdown cells whose slideshow.slide_type is
    "notes", nncourse.slides) from a released notebook: learners never get them, neither in
    lessons/ nor in the notebook that grading rebuilds from the release for their feedback."""

    enabled = Bool(True)  # nbconvert's preprocessors are off unless told otherwise

    def preprocess(self, nb, resources):
        nb.cells = [c for c in nb.cells if not is_speaker_notes(c)]
        return nb, resources


# nbgrader's autograde steps, with Execute and LimitOutput replaced by the ones above.
SANDBOXED_AUTOGRADE = [ResilientExecute, IgnorePattern, ClearMetadataPreprocessor,
                       MarkedLimitOutput, SaveAutoGrades, AssignLatePenalties, CheckCellMetadata]


# ------------------------------------------------------------------ the commands


def config(course, db_url):
    """nbgrader's configuration of a course folder: where it is and its gradebook."""
    settings = Config()
    settings.CourseDirectory.root = str(course)
    settings.CourseDirectory.course_id = COURSE_ID
    settings.CourseDirectory.db_url = db_url
    return settings


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


def _run(converter, settings, **ids):
    """Run an nbgrader converter (its command, e.g. `nbgrader autograde`) in this process.

    ids: the CourseDirectory's assignment_id and student_id. Returns None, or nbgrader's log
    and traceback when it failed.
    """
    app = converter(coursedir=CourseDirectory(config=settings, **ids), config=settings, log=_LOG)
    app.force = True
    with _scripts_on_path():
        outcome = capture_log(app)
    return None if outcome["success"] else outcome.get("log", "") + outcome["error"]


def generate(course, lessons, db_url):
    """`nbgrader generate_assignment` of each lesson: course/release/<lesson>/ from
    course/source/<lesson>/, recorded in the gradebook, without the speaker notes
    (DropSpeakerNotes), as the gradebook's one writer (_one_writer). Raises RuntimeError if it
    fails."""
    settings = config(course, db_url)
    settings.GenerateAssignment.preprocessors = [
        DropSpeakerNotes, *GenerateAssignment.class_traits()["preprocessors"].default()]
    with _one_writer(db_url):
        for lesson in lessons:
            failure = _run(GenerateAssignment, settings, assignment_id=lesson)
            if failure:
                raise RuntimeError(f"nbgrader generate_assignment {lesson} failed:\n"
                                   f"{failure[-4000:]}")


def autograde(course, db_url, lesson, student="*", limits=None):
    """`nbgrader autograde` of course/submitted/<student>/<lesson> ("*": every student).

    limits: None for nbgrader's own steps (kernels without a sandbox), or a Limits for
    sandboxed, resilient kernels (nncourse.grading.sandbox). Returns None, or nbgrader's log
    when it could not grade.
    """
    settings = config(course, db_url)
    if limits is not None:
        settings.Autograde.autograde_preprocessors = SANDBOXED_AUTOGRADE
        settings.Execute.timeout = limits.cell_s
        settings.Execute.error_on_timeout = {
            "ename": CELL_TIMEOUT, "evalue": f"the cell ran longer than {limits.cell_s} s",
            "traceback": [f"{CELL_TIMEOUT}: the cell ran longer than {limits.cell_s} s"]}
        settings.LimitOutput.max_lines = MAX_OUTPUT_LINES
        settings.Execute.shutdown_kernel = "immediate"  # nothing to save: do not wait for it
        settings.ResilientExecute.notebook_timeout = limits.notebook_s
        settings.SandboxedKernelManager.memory_limit_mb = limits.memory_mb
        settings.SandboxedKernelManager.hidden = list(limits.hidden)
        settings.SandboxedKernelManager.readable = list(limits.readable)
    return _run(Autograde, settings, assignment_id=lesson, student_id=student)


def feedback(course, db_url, lessons, current=()):
    """One HTML report per student and lesson in course/feedback/<student>/<lesson>/, without
    the hidden tests (HideHiddenTests) and the rubrics (GetGradesForLearner); return the paths
    of every report in the course.

    current: (student, lesson) pairs whose reports are up to date (graded in an earlier run):
    nbgrader skips them, so a re-run writes only the reports of what it graded.
    """
    settings = config(course, db_url)
    settings.GenerateFeedback.preprocessors = [GetGradesForLearner, HideHiddenTests,
                                               CSSHTMLHeaderPreprocessor]
    for lesson in lessons:
        skip = ",".join(sorted(student for student, done in current if done == lesson))
        failure = _run(GenerateFeedback, settings, assignment_id=lesson,
                       student_id_exclude=skip)
        if failure:
            raise RuntimeError(f"nbgrader generate_feedback {lesson} failed:\n"
                               f"{failure[-4000:]}")
    return sorted((Path(course) / "feedback").glob("*/*/*.html"))


AWAITING_COLUMNS = ("awaiting_manual_grading", "awaiting_manual_points")


def export(db_url, path):
    """nbgrader's CSV export of a gradebook (one row per student and lesson), with two more
    columns: the number of written answers that await a person's grade and their points
    (0 and 0 once all are graded, or for a lesson not handed in); return path."""
    with _scripts_on_path(), Gradebook(db_url, COURSE_ID) as gb:
        CsvExportPlugin(to=str(path), log=_LOG).export(gb)
        pending = {}  # (student, lesson) -> [max_score of each answer awaiting a person]
        for lesson in gb.assignments:
            for submission in lesson.submissions:
                for notebook in submission.notebooks:
                    for grade in notebook.grades:
                        if grade.auto_score is None and grade.manual_score is None:
                            pending.setdefault((submission.student.id, lesson.name),
                                               []).append(grade.max_score)
    with open(path, newline="") as file:
        reader = csv.DictReader(file)
        rows, columns = list(reader), reader.fieldnames or []
    with open(path, "w", newline="") as file:
        writer = csv.DictWriter(file, fieldnames=[*columns, *AWAITING_COLUMNS])
        writer.writeheader()
        for row in rows:
            waiting = pending.get((row["student_id"], row["assignment"]), [])
            writer.writerow({**row, AWAITING_COLUMNS[0]: len(waiting),
                             AWAITING_COLUMNS[1]: f"{sum(waiting):g}"})
    return path


# ------------------------------------------------------------------ the gradebook


def scores(db_url, lesson, student):
    """{grade_id: (score, max_score)} of a student's lesson: score None for a written answer
    that awaits a person's grade, 0 for anything not graded (no submission)."""
    return class_scores(db_url, [(student, lesson)])[(student, lesson)]


def class_scores(db_url, keys):
    """{(student, lesson): scores} for each (student, lesson) in keys, as `scores` gives
    them, read in one session (opening a gradebook takes a tenth of a second)."""
    found = {}
    with Gradebook(db_url, COURSE_ID) as gb:
        for student, lesson in keys:
            cells = found[(student, lesson)] = {}
            for notebook in gb.find_assignment(lesson).notebooks:
                for cell in notebook.grade_cells:
                    try:
                        grade = gb.find_grade(cell.name, notebook.name, lesson, student)
                    except MissingEntry:  # no submission: nbgrader failed before grading
                        cells[cell.name] = (0.0, float(cell.max_score))
                        continue
                    waits = grade.auto_score is None and grade.manual_score is None
                    cells[cell.name] = (None if waits else float(grade.score or 0.0),
                                        float(cell.max_score))
    return found


def auto_comments(db_url, lesson, student):
    """{grade_id: text} of the comments nbgrader wrote itself on a student's answers (e.g.
    "No response." on an answer left as released)."""
    with Gradebook(db_url, COURSE_ID) as gb:
        try:
            submission = gb.find_submission_notebook(lesson, lesson, student)
        except MissingEntry:  # nbgrader failed before grading
            return {}
        return {c.name: c.auto_comment for c in submission.comments if c.auto_comment}


# pip's name of the drivers whose module has another name
DRIVER_PACKAGES = {"psycopg": "psycopg[binary]", "psycopg2": "psycopg2-binary",
                   "MySQLdb": "mysqlclient"}


def check_database(db_url):
    """Raise ValueError, naming the gradebook (its password hidden), the problem and what to do,
    when the gradebook at db_url cannot be opened.

    Called before a grading touches anything. An SQLite file need not exist yet (nbgrader
    creates it), but its folder must; any other database is connected to, with its driver.
    """
    from urllib.parse import unquote

    from sqlalchemy import create_engine
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import DBAPIError, SQLAlchemyError

    shown = db_url
    try:
        url = make_url(db_url)
        # never print a password; a socket folder reads as a path, not as %2F...
        shown = unquote(url.render_as_string(hide_password=True))
        if url.get_backend_name() == "sqlite":
            folder = Path(url.database or ".").parent
            if url.database and not folder.is_dir():
                raise ValueError(f"no folder {folder} for its SQLite file")
            return
        engine = create_engine(url)
        with engine.connect():
            pass
        engine.dispose()
    except ImportError as error:  # the dialect's driver: SQLAlchemy imports it on create_engine
        module = (error.name or "").split(".")[0]
        what = (f"its driver {module} is not installed: pip install "
                f"'{DRIVER_PACKAGES.get(module, module)}'") if module else str(error)
        raise ValueError(f"cannot open the gradebook {shown}: {what}") from None
    except (SQLAlchemyError, ValueError) as error:
        cause = error.orig if isinstance(error, DBAPIError) else error
        reason = str(cause).strip().splitlines()[0] if str(cause).strip() else \
            type(cause).__name__
        advice = _advice(url) if isinstance(error, DBAPIError) else ""
        raise ValueError(f"cannot open the gradebook {shown}: {reason}{advice}") from None


def _advice(url):
    """What to do about a PostgreSQL server that could not be connected to, as "; ..." ("" for
    other databases). The drivers give no SQLSTATE for a refused connection and the server's
    messages may be translated, so whether a server answered at all is found by looking."""
    if url.get_backend_name() != "postgresql":
        return ""
    host = url.query.get("host") or url.host  # a folder: the server's Unix socket is in it
    port = int(url.query.get("port") or url.port or 5432)
    if isinstance(host, str) and _listening(host, port):
        return (f"; the server answered: check the user and password (in the URL or ~/.pgpass) "
                f"and that the database exists (createdb {url.database})")
    return (f"; is the PostgreSQL server running and reachable at "
            f"{host if isinstance(host, str) else 'its default socket'} (port {port})?")


def _listening(host, port):
    """Whether a server listens at host (a name, an address, or a socket's folder) and port."""
    if host.startswith("/"):
        return Path(host, f".s.PGSQL.{port}").is_socket()
    try:
        socket.create_connection((host, port), timeout=10).close()
    except OSError:
        return False
    return True


# PostgreSQL's advisory lock that makes a grading the one writer of a gradebook (any 64-bit
# number that no other program on the same database uses)
WRITER_LOCK = 0x6E6E636F75727365  # "nncourse"


@contextlib.contextmanager
def _one_writer(db_url):
    """Hold PostgreSQL's advisory lock WRITER_LOCK on the gradebook's database while writing to
    it; do nothing for other databases.

    Two gradings into one PostgreSQL gradebook at once (two TAs): nbgrader's generate creates
    the tables, the course and the lessons, and record the students and submissions, each only
    if missing, so the second writer fails on a unique constraint. One at a time, the second
    finds them made. The lock is released at the end of its transaction, also when the
    process dies.
    """
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    if make_url(db_url).get_backend_name() != "postgresql":
        yield
        return
    engine = create_engine(db_url)
    try:
        with engine.begin() as connection:
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": WRITER_LOCK})
            yield
    finally:
        engine.dispose()


def record(db_url, grades, reset_manual=False):
    """Write grades into a gradebook: each has .student, .lesson, .scores ({grade_id:
    (score, max_score)}, as `scores` returns), .flags and .comments ({grade_id of an answer:
    text}), e.g. the grades of workers' own gradebooks.

    A score None (a written answer that awaits a person) is recorded as nbgrader's autograde
    records it: no auto_score, and the cell needs a manual grade. What a grader gave by hand
    in formgrader (Grade.manual_score and extra_credit, Comment.manual_comment, the
    notebook's flag) is kept, as nbgrader's own autograde keeps it, unless reset_manual; a
    kept manual score marks the cell for review again, as nbgrader does. Flags set
    SubmittedNotebook.flagged, which formgrader shows; their text is in the comments.
    Written as the gradebook's one writer (_one_writer).
    """
    with _one_writer(db_url), Gradebook(db_url, COURSE_ID) as gb, warnings.catch_warnings():
        # nbgrader's own update_or_create_submission trips an SQLAlchemy autoflush warning
        warnings.simplefilter("ignore", category=SAWarning)
        for grade in grades:
            gb.update_or_create_student(grade.student)
            gb.update_or_create_submission(grade.lesson, grade.student)
            submitted = gb.find_submission_notebook(grade.lesson, grade.lesson, grade.student)
            for entry in submitted.grades:
                entry.auto_score = grade.scores.get(entry.name, (0.0, 0.0))[0]
                if reset_manual:
                    entry.manual_score = entry.extra_credit = None
                # nbgrader's SaveAutoGrades rule: a person looks at it again, or for the first time
                entry.needs_manual_grade = (entry.manual_score is not None
                                            or entry.auto_score is None)
            for comment in submitted.comments:
                comment.auto_comment = grade.comments.get(comment.name)
                if reset_manual:
                    comment.manual_comment = None
            submitted.flagged = bool(grade.flags) or (submitted.flagged and not reset_manual)
            gb.db.commit()
