"""`nncourse grade` into a PostgreSQL gradebook, on a real server the suite starts itself
(tests/postgres_server.py): the grades the sample class should get, a re-run that changes
nothing, incremental grading and scores given by hand, two graders at once, and one-line errors
for a gradebook that cannot be opened, through the server's Unix socket and over TCP.

Expected grades never come from the grader: examples/expected_grades.json is derived from the
lessons' points and the wrong-answer fixtures (examples/make_class.py), as for SQLite in
test_grading.py. Lesson 01 and few students only: every graded notebook costs seconds.
"""

import json
import multiprocessing
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import pytest
from postgres_server import PASSWORD, free_port

from nncourse import cli
from nncourse.course import ROOT, SOLUTIONS, notebook_path
from nncourse.grading import grade_class

CLASS = ROOT / "examples" / "class"
EXPECTED = json.loads((ROOT / "examples" / "expected_grades.json").read_text())
LESSON = "01_loss_and_cost"
NNCOURSE = Path(sys.executable).parent / "nncourse"
WRONG_PASSWORD = "not-the-password"

pytestmark = pytest.mark.grading


def quiet(_):
    pass


def hand_in(folder, *students):
    """The lesson-01 notebooks of `students` of the sample class (finn's is a flat file there)
    copied in nbgrader's layout under folder; returns folder."""
    for student in students:
        original = CLASS / f"finn_{LESSON}.ipynb" if student == "finn" else \
            notebook_path(CLASS / student, LESSON)
        target = notebook_path(folder / student, LESSON)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(original, target)
    return folder


def expected(student):
    """{grade_id: points} a student's lesson 01 should get (None: awaits manual grading)."""
    return EXPECTED[student][LESSON]


def in_gradebook(db_url, students):
    """{student: {grade_id: score}} of lesson 01, read from the gradebook."""
    from nncourse.grading import nbgrader

    found = nbgrader.class_scores(db_url, [(s, LESSON) for s in students])
    return {s: {g: score for g, (score, _) in found[(s, LESSON)].items()} for s in students}


def rows(postgres, database):
    """{table: its rows, sorted} of every table of a gradebook: its whole content."""
    tables = postgres.psql("SELECT tablename FROM pg_tables WHERE schemaname = 'public'",
                           database)
    return {t: sorted(map(repr, postgres.psql(f'SELECT * FROM "{t}"', database)))
            for (t,) in tables}


@pytest.fixture(scope="module")
def sample(postgres, tmp_path_factory):
    """ada (two written answers await a person), cleo and finn graded into the PostgreSQL
    database `sample` through its Unix socket."""
    tmp = tmp_path_factory.mktemp("postgres-sample")
    submissions = hand_in(tmp / "class", "ada", "cleo", "finn")
    db_url = postgres.new_database("sample")
    grading = grade_class(submissions, tmp / "out", lessons=[LESSON], jobs=2, db_url=db_url,
                          progress=quiet)
    return {"submissions": submissions, "out": tmp / "out", "grading": grading}


def test_the_sample_class_gets_its_expected_grades_in_postgresql(sample):
    grading = sample["grading"]
    assert grading.db_url.startswith("postgresql://")
    students = ["ada", "cleo", "finn"]
    assert {r.student: {g: s for g, (s, _) in r.scores.items()} for r in grading.results} == \
        {s: expected(s) for s in students}
    assert in_gradebook(grading.db_url, students) == {s: expected(s) for s in students}


def test_a_rerun_grades_nothing_and_leaves_every_row_as_it_was(sample, postgres, capsys):
    before = rows(postgres, "sample")
    status = cli.main(["grade", str(sample["submissions"]), "--out", str(sample["out"]),
                       "--lesson", LESSON, "--db-url", sample["grading"].db_url])
    printed = capsys.readouterr().out
    assert status == 0
    assert "0 graded, 0 could not be graded, 3 unchanged, 0 skipped" in printed, printed
    assert rows(postgres, "sample") == before


def test_a_changed_submission_alone_is_regraded_and_manual_scores_survive(
        postgres, tmp_path):
    """A TA gives ada's test_bce_values 4 points by hand (nbgrader's API, as formgrader
    writes it); cleo hands in again (dan's notebook, whose grades are known). The re-run
    grades cleo's notebook alone and keeps the TA's score."""
    from nbgrader.api import Gradebook

    submissions = hand_in(tmp_path / "class", "ada", "cleo")
    out, db_url = tmp_path / "out", postgres.new_database("incremental")
    grade_class(submissions, out, lessons=[LESSON], jobs=2, db_url=db_url, progress=quiet)
    with Gradebook(db_url, "nncourse") as gb:  # what formgrader's grade and comment boxes do
        gb.find_grade("test_bce_values", LESSON, LESSON, "ada").manual_score = 4.0
        gb.find_comment("binary_crossentropy", LESSON, LESSON, "ada").manual_comment = "tidy"
        gb.db.commit()
    graded_ada = notebook_path(out / "course" / "autograded" / "ada", LESSON)
    stamp = graded_ada.stat().st_mtime_ns
    shutil.copy(notebook_path(CLASS / "dan", LESSON), notebook_path(submissions / "cleo", LESSON))

    again = grade_class(submissions, out, lessons=[LESSON], jobs=2, db_url=db_url,
                        progress=quiet)
    assert {r.student: r.graded_now for r in again.results} == {"ada": False, "cleo": True}
    assert graded_ada.stat().st_mtime_ns == stamp
    assert in_gradebook(db_url, ["ada", "cleo"]) == {
        "ada": {**expected("ada"), "test_bce_values": 4.0}, "cleo": expected("dan")}
    with Gradebook(db_url, "nncourse") as gb:
        assert gb.find_comment("binary_crossentropy", LESSON, LESSON,
                               "ada").manual_comment == "tidy"


def test_two_graders_at_once_into_one_database_lose_nothing(postgres, tmp_path):
    """Two TAs run `nncourse grade` at the same time into one gradebook, each with their own
    grading folder, over TCP with a password; both were handed cleo's notebook."""
    postgres.new_database("two_graders")
    db_url = postgres.tcp_url("two_graders")
    classes = {"first": ("ada", "cleo"), "second": ("cleo",)}
    graders = {name: subprocess.Popen(
        [str(NNCOURSE), "grade", str(hand_in(tmp_path / name, *students)), "--lesson", LESSON,
         "--out", str(tmp_path / f"out-{name}"), "--jobs", "1", "--db-url", db_url],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        for name, students in classes.items()}
    failures = {name: grader.communicate(timeout=900)[1] for name, grader in graders.items()}
    assert {name: g.returncode for name, g in graders.items()} == {"first": 0, "second": 0}, \
        failures
    assert postgres.psql("SELECT student.id, count(*) FROM submitted_assignment JOIN student "
                         "ON student.id = student_id GROUP BY student.id ORDER BY 1",
                         "two_graders") == [("ada", 1), ("cleo", 1)]
    assert in_gradebook(db_url, ["ada", "cleo"]) == {s: expected(s) for s in ("ada", "cleo")}


def generate_at_once(db_url, course, barrier):
    """nbgrader's generate of lesson 01 from course/source into db_url, started at the same
    instant as the other processes that wait at barrier."""
    from nncourse.grading import nbgrader

    try:
        barrier.wait()
    except BaseException:
        barrier.abort()  # the others would wait for this one for ever
        raise
    nbgrader.generate(course, [LESSON], db_url)


def record_five_points(db_url, *students):
    """nbgrader.record of 5 points on test_bce_values (0 on every other cell) for students."""
    from nncourse.grading import nbgrader

    nbgrader.record(db_url, [SimpleNamespace(student=s, lesson=LESSON, flags=[], comments={},
                                             scores={"test_bce_values": (5.0, 5.0)})
                             for s in students])


def start(target, arguments):
    """target(*a) started in a forked process for each a in arguments (forked from the
    tests' process, which has imported nbgrader already)."""
    context = multiprocessing.get_context("fork")
    processes = [context.Process(target=target, args=a) for a in arguments]
    for process in processes:
        process.start()
    return processes


def waiting(connection):
    """How many locks of the connection's database are waited for."""
    return connection.execute("SELECT count(*) FROM pg_locks WHERE NOT granted AND database = "
                              "(SELECT oid FROM pg_database WHERE datname = current_database())"
                              ).fetchone()[0]


def exit_codes(processes):
    """The exit codes of processes, once they have ended."""
    for process in processes:
        process.join(timeout=600)
    return [process.exitcode for process in processes]


def test_gradings_that_generate_a_new_gradebook_at_once_wait_for_each_other(
        postgres, tmp_path):
    """Three gradings start on a new gradebook at the same instant (two `nncourse grade` runs
    rarely meet so exactly, but may): without a lock, all but one fail on a unique constraint
    as nbgrader's generate creates the tables, the course and the lesson."""
    from nncourse.grading import nbgrader  # noqa: F401  (once, before the forks)

    db_url = postgres.new_database("generated_at_once")
    courses = [tmp_path / f"course{i}" for i in range(3)]
    for course in courses:
        shutil.copytree(SOLUTIONS / LESSON, course / "source" / LESSON)
    barrier = multiprocessing.get_context("fork").Barrier(len(courses))
    writers = start(generate_at_once, [(db_url, course, barrier) for course in courses])
    assert exit_codes(writers) == [0, 0, 0]
    assert postgres.psql("SELECT name FROM assignment", "generated_at_once") == [(LESSON,)]


def test_gradings_that_record_one_student_at_once_wait_for_each_other(postgres, tmp_path):
    """Three gradings record the same new student ("shared") and one of their own, at once:
    the tests hold PostgreSQL's lock on the student table until all three wait for a lock
    (nbgrader's first insert of "shared", or the gradebook's writer lock), then let go. Without
    a writer lock, all three insert "shared" and two fail on its primary key."""
    from nncourse.grading import nbgrader

    shutil.copytree(SOLUTIONS / LESSON, tmp_path / "source" / LESSON)
    db_url = postgres.new_database("recorded_at_once")
    nbgrader.generate(tmp_path, [LESSON], db_url)
    with postgres.connect("recorded_at_once") as holder:
        holder.execute("LOCK TABLE student IN EXCLUSIVE MODE")  # reads pass, inserts wait
        writers = start(record_five_points, [(db_url, "shared", s) for s in ("s1", "s2", "s3")])
        while waiting(holder) < len(writers) and all(w.is_alive() for w in writers):
            time.sleep(0.1)
    assert exit_codes(writers) == [0, 0, 0]
    students = ["shared", "s1", "s2", "s3"]
    assert in_gradebook(db_url, students) == {
        s: {**{g: 0.0 for g in expected("ada")}, "test_bce_values": 5.0} for s in students}


# what is wrong: (its URL through the socket, its URL over TCP, what the line must advise)
UNUSABLE = {
    "driver missing": (
        lambda pg: f"postgresql+pg8000://{pg.user}@/postgres?host={pg.socket_dir}&port={pg.port}",
        lambda pg: f"postgresql+pg8000://{pg.user}:{pg.password}@127.0.0.1:{pg.port}/postgres",
        "its driver pg8000 is not installed: pip install 'pg8000'"),
    "no server there": (
        lambda pg: f"postgresql://{pg.user}@/postgres?host={pg.socket_dir}-gone&port={pg.port}",
        lambda pg: f"postgresql://{pg.user}:{pg.password}@127.0.0.1:{free_port()}/postgres",
        "is the PostgreSQL server running and reachable at"),
    "wrong password or user": (
        lambda pg: f"postgresql://nobody_here@/postgres?host={pg.socket_dir}&port={pg.port}",
        lambda pg: f"postgresql://{pg.user}:{WRONG_PASSWORD}@127.0.0.1:{pg.port}/postgres",
        "the server answered: check the user and password"),
    "no such database": (
        lambda pg: f"postgresql://{pg.user}@/no_such_db?host={pg.socket_dir}&port={pg.port}",
        lambda pg: f"postgresql://{pg.user}:{pg.password}@127.0.0.1:{pg.port}/no_such_db",
        "that the database exists (createdb no_such_db)"),
}


def assert_one_line_and_nothing_written(status, printed, errors, db_url, advice, out):
    """One line on stderr naming the gradebook, its password hidden, and advising; exit 2;
    OUT not even created."""
    shown = re.sub(r":[^:@/]*@", ":***@", db_url)  # user:password@ -> user:***@
    assert status == 2
    assert printed == ""
    assert len(errors) == 1, errors
    assert errors[0].startswith(f"nncourse grade: error: cannot open the gradebook {shown}: "), \
        errors
    assert advice in errors[0], errors
    assert PASSWORD not in errors[0] and WRONG_PASSWORD not in errors[0]
    assert not out.exists()


@pytest.mark.parametrize("over", ["socket", "tcp"])
@pytest.mark.parametrize("problem", sorted(UNUSABLE))
def test_a_gradebook_that_cannot_be_opened_is_one_line_and_nothing_is_written(
        problem, over, postgres, tmp_path, capsys):
    by_socket, by_tcp, advice = UNUSABLE[problem]
    db_url = (by_socket if over == "socket" else by_tcp)(postgres)
    out = tmp_path / "out"
    status = cli.main(["grade", str(CLASS), "--lesson", LESSON, "--out", str(out),
                       "--db-url", db_url])
    captured = capsys.readouterr()
    assert_one_line_and_nothing_written(status, captured.out, captured.err.splitlines(),
                                        db_url, advice, out)


@pytest.mark.parametrize("over", ["socket", "tcp"])
def test_without_psycopg_a_postgresql_url_says_which_driver_to_install(
        over, postgres, tmp_path):
    """`postgresql://` is psycopg's (SQLAlchemy 2): a Python where it cannot be imported."""
    db_url = postgres.socket_url("postgres") if over == "socket" else \
        postgres.tcp_url("postgres")
    out = tmp_path / "out"
    done = subprocess.run(
        [sys.executable, "-c", "import sys; sys.modules['psycopg'] = None; "
         "from nncourse.cli import main; sys.exit(main())",
         "grade", str(CLASS), "--lesson", LESSON, "--out", str(out), "--db-url", db_url],
        capture_output=True, text=True, timeout=300)
    assert_one_line_and_nothing_written(
        done.returncode, done.stdout, done.stderr.splitlines(), db_url,
        "its driver psycopg is not installed: pip install 'psycopg[binary]'", out)
