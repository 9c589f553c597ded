"""A term of `nncourse grade` runs on one grading folder, on the real nbgrader: a mistake
changes nothing, a late notebook is graded alone, what a grader gave by hand in formgrader
survives re-runs, and the exit status says what happened.

The class is small (three students, lesson 01, two jobs): every grading run costs seconds of
kernels. The run times of the first grading and of the incremental re-run are printed,
never asserted.
"""

import csv
import hashlib
import json
import shutil
import time

import pytest

from nncourse import check, cli
from nncourse.course import ROOT, notebook_path
from nncourse.grading import grade_class
from nncourse.grading.report import FLAGS

CLASS = ROOT / "examples" / "class"
EXPECTED = json.loads((ROOT / "examples" / "expected_grades.json").read_text())
LESSON = "01_loss_and_cost"
FAST = ["--lesson", LESSON, "--jobs", "2", "--timeout", "60"]

pytestmark = pytest.mark.grading


def quiet(_):
    pass


def files(folder):
    """{relative path: SHA-256} of every file under folder: its exact content."""
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def given(student):
    """The points of a student's expected grades for LESSON that are given: a written answer
    that awaits manual grading (expected null) has none yet."""
    return sum(score for score in EXPECTED[student][LESSON].values() if score is not None)


def totals(db_url, students):
    """{student: the points the gradebook gives for LESSON}; an answer that awaits manual
    grading (score None) adds nothing."""
    from nncourse.grading import nbgrader

    scores = nbgrader.class_scores(db_url, [(s, LESSON) for s in students])
    return {s: sum(score for score, _ in scores[(s, LESSON)].values() if score is not None)
            for s in students}


@pytest.fixture(scope="module")
def term(tmp_path_factory):
    """ada, cleo (nbgrader's layout) and finn (a flat file) graded into OUT; the seconds it
    took. dan's notebook is handed in late by a test."""
    tmp = tmp_path_factory.mktemp("term")
    submissions = tmp / "submissions"
    for student in ("ada", "cleo"):
        shutil.copytree(CLASS / student / LESSON, submissions / student / LESSON)
    shutil.copy(CLASS / f"finn_{LESSON}.ipynb", submissions)
    start = time.perf_counter()
    grading = grade_class(submissions, tmp / "out", lessons=[LESSON], jobs=2, progress=quiet)
    return {"submissions": submissions, "out": tmp / "out", "grading": grading,
            "seconds": time.perf_counter() - start}


def grade(capsys, *args):
    """Run `nncourse grade` in process; return (exit status, stdout, stderr lines)."""
    try:
        status = cli.main(["grade", *map(str, args)])
    except SystemExit as exit:  # argparse's own errors (an unknown lesson) exit at once
        status = exit.code
    captured = capsys.readouterr()
    return status, captured.out, captured.err.splitlines()


@pytest.mark.parametrize("mistake", ["missing submissions", "not a zip", "nothing understood",
                                     "unknown lesson", "database folder missing",
                                     "database driver missing", "malformed database url"])
def test_a_mistake_is_one_line_exit_2_and_leaves_the_last_grading_untouched(
        mistake, term, tmp_path, capsys):
    out = term["out"]
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "readme.txt").write_text("no notebook here")
    (tmp_path / "export.zip").write_text("a typo'd export, not a zip")
    submissions, extra = {
        "missing submissions": (tmp_path / "submissons", []),
        "not a zip": (tmp_path / "export.zip", []),
        "nothing understood": (tmp_path / "notes", []),
        "unknown lesson": (term["submissions"], ["--lesson", "01_loss_and_costs"]),
        "database folder missing": (term["submissions"],
                                    ["--db-url", f"sqlite:///{tmp_path}/no/gradebook.db"]),
        "database driver missing": (term["submissions"],
                                    ["--db-url", "nosuchdb://grader:secret@127.0.0.1:1/c"]),
        "malformed database url": (term["submissions"], ["--db-url", "gradebook.db"]),
    }[mistake]
    before = files(out)
    status, printed, errors = grade(capsys, submissions, "--out", out, *extra)
    assert status == 2
    assert len(errors) == 1 and errors[0].startswith("nncourse grade: error: "), errors
    assert "secret" not in errors[0]  # a database password is never printed
    assert printed == ""
    assert files(out) == before


def test_an_out_folder_that_is_not_a_grading_is_refused_and_kept(tmp_path, capsys):
    (tmp_path / "thesis.tex").write_text("precious")
    status, _, errors = grade(capsys, CLASS, "--out", tmp_path, *FAST)
    assert status == 2
    assert errors == [f"nncourse grade: error: --out {tmp_path} is not empty and was not made "
                      "by `nncourse grade`: give a new folder or a previous grading folder"]
    assert files(tmp_path) == {"thesis.tex": hashlib.sha256(b"precious").hexdigest()}


def test_a_late_notebook_is_graded_alone_and_manual_grades_survive_regrading(
        term, capsys):
    """A TA grades ada's answer by hand in formgrader (nbgrader's API, as formgrader writes
    it); dan hands in late. The re-run grades dan only; --regrade grades all again and keeps
    the TA's work; --reset-manual drops it."""
    from nbgrader.api import Gradebook

    out, db_url = term["out"], term["grading"].db_url
    students = ["ada", "cleo", "finn"]
    before = totals(db_url, students)
    assert before == {s: given(s) for s in students}
    with Gradebook(db_url, "nncourse") as gb:  # what formgrader's grade and comment boxes do
        gb.find_grade("test_bce_values", LESSON, LESSON, "ada").manual_score = 4.0
        gb.find_comment("binary_crossentropy", LESSON, LESSON, "ada").manual_comment = "tidy"
        gb.db.commit()
    graded = {s: notebook_path(out / "course" / "autograded" / s, LESSON) for s in students}
    stamps = {s: path.stat().st_mtime_ns for s, path in graded.items()}
    shutil.copytree(CLASS / "dan" / LESSON, term["submissions"] / "dan" / LESSON)

    start = time.perf_counter()
    status, printed, _ = grade(capsys, term["submissions"], "--out", out, *FAST)
    with capsys.disabled():  # measured for the record, not asserted
        print(f"\nrun times: first grading {term['seconds']:.1f} s (3 notebooks), re-run "
              f"with one late notebook {time.perf_counter() - start:.1f} s")
    assert status == 0
    assert "1 graded, 0 could not be graded, 3 unchanged, 0 skipped" in printed, printed
    assert {s: path.stat().st_mtime_ns for s, path in graded.items()} == stamps
    manual = before["ada"] - EXPECTED["ada"][LESSON]["test_bce_values"] + 4.0
    assert totals(db_url, [*students, "dan"]) == {
        **before, "ada": manual, "dan": given("dan")}
    table = {line.split()[0]: line.split()[1] for line in printed.splitlines()
             if line.split() and line.split()[0] in [*students, "dan"]}
    assert table["ada"] == f"{manual:g}"  # the table shows the gradebook, manual scores in
    called_nnlib = FLAGS[check.CalledNnlib.__name__]  # finn's flag, kept though not re-run
    assert called_nnlib in next(line for line in printed.splitlines() if line.startswith("finn"))
    assert list(csv.reader((out / "flags.csv").open()))[1:] == [["finn", LESSON, called_nnlib]]

    def manual_work():
        with Gradebook(db_url, "nncourse") as gb:
            return (gb.find_grade("test_bce_values", LESSON, LESSON, "ada").manual_score,
                    gb.find_comment("binary_crossentropy", LESSON, LESSON,
                                    "ada").manual_comment)

    assert manual_work() == (4.0, "tidy")
    status, printed, _ = grade(capsys, term["submissions"], "--out", out, *FAST, "--regrade")
    assert status == 0 and "4 graded, 0 could not be graded, 0 unchanged" in printed, printed
    assert manual_work() == (4.0, "tidy")
    assert totals(db_url, ["ada"]) == {"ada": manual}
    status, printed, _ = grade(capsys, term["submissions"], "--out", out, *FAST,
                               "--reset-manual")
    assert status == 0 and "4 graded" in printed
    assert manual_work() == (None, None)
    assert totals(db_url, ["ada"]) == {"ada": before["ada"]}
    rows = {(r["student_id"], r["assignment"]): float(r["score"])
            for r in csv.DictReader((out / "grades.csv").open())}
    assert rows[("dan", LESSON)] == given("dan")


def test_a_notebook_nbgrader_cannot_grade_gives_exit_1_and_a_flag(tmp_path, capsys):
    """A kernel given too little memory to start: nbgrader's autograde fails on the
    notebook. (No submission found so far can do it by itself: repair rebuilds every notebook
    from the released one, and a kernel that dies is revived.)"""
    shutil.copytree(CLASS / "cleo" / LESSON, tmp_path / "class" / "cleo" / LESSON)
    out = tmp_path / "out"
    status, printed, errors = grade(capsys, tmp_path / "class", "--out", out, *FAST,
                                    "--memory-mb", "20")
    assert status == 1
    log = out / "logs" / LESSON / "cleo.log"
    assert errors == [f"could not grade: cleo {LESSON}: see {log}"]
    assert "0 graded, 1 could not be graded, 0 unchanged" in printed
    assert log.read_text().strip()
    [row] = csv.DictReader((out / "flags.csv").open())
    assert row == {"student_id": "cleo", "assignment": LESSON,
                   "flag": f"nbgrader could not grade this notebook: see {log}"}
