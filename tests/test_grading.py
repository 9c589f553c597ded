"""`nncourse grade` on real nbgrader and real kernels: the sample class, and abuse.

Expected grades never come from the grader: the sample class's are derived from the lessons'
points and the wrong-answer fixtures (examples/make_class.py), the robustness cases' from
which exercises each case breaks (tests/fixtures/robustness.py).
"""

import ast
import csv
import json
import re
import runpy
import shutil
import socket
import subprocess
import sys
import zipfile
from pathlib import Path

import nbformat
import pytest
from nbgrader.api import Gradebook

from nncourse import grading
from nncourse.feedback import export_grades, generate_feedback
from nncourse.report import class_table, exercise_figure
from nncourse.sandbox import bubblewrap
from nncourse.submissions import find_submissions

ROOT = Path(__file__).resolve().parents[1]
CLASS = ROOT / "examples" / "class"
EXPECTED = json.loads((ROOT / "examples" / "expected_grades.json").read_text())
ROBUSTNESS = runpy.run_path(str(ROOT / "tests" / "fixtures" / "robustness.py"))
TIMEOUT = 60  # seconds per cell for the sample class (lesson 05 trains Keras in a cell)
ABUSE_TIMEOUT = 10  # lesson 01 only: its cells take well under a second
ABUSE_MEMORY_MB = 1500  # enough for lesson 01; a hog reaches it in about a second

pytestmark = pytest.mark.grading


def quiet(_):
    pass


def per_cell(results):
    return {(r.student, r.lesson): {g: s for g, (s, _) in r.scores.items()} for r in results}


@pytest.fixture(scope="module")
def sample_class(tmp_path_factory):
    out = tmp_path_factory.mktemp("sample") / "out"
    results, skipped, course = grading.grade_class(CLASS, out, jobs=2, timeout=TIMEOUT,
                                                   progress=quiet)
    return out, results, skipped, course


def test_sample_class_gets_exactly_the_expected_grades(sample_class):
    _, results, skipped, _ = sample_class
    assert skipped == []
    got = per_cell(results)
    expected = {(s, lesson): cells for s, lessons in EXPECTED.items()
                for lesson, cells in lessons.items()}
    assert set(got) == set(expected)
    wrong = {key: {g: (expected[key][g], got[key].get(g)) for g in expected[key]
                   if got[key].get(g) != expected[key][g]} for key in expected}
    assert not any(wrong.values()), {k: v for k, v in wrong.items() if v}


def test_gradebook_and_csv_hold_the_same_grades(sample_class):
    out, results, _, course = sample_class
    with Gradebook(f"sqlite:///{out / 'gradebook.db'}", grading.COURSE_ID) as gb:
        for r in results:
            submission = gb.find_submission(r.lesson, r.student)
            assert submission.score == r.score, (r.student, r.lesson)
    rows = list(csv.DictReader(export_grades(course, out / "grades.csv").open()))
    exported = {(row["student_id"], row["assignment"]): float(row["score"]) for row in rows}
    for student, lessons in EXPECTED.items():
        for lesson, cells in lessons.items():
            assert exported[(student, lesson)] == sum(cells.values()), (student, lesson)


def test_feedback_says_why_without_showing_hidden_tests(sample_class):
    _, results, _, course = sample_class
    reports = generate_feedback(course, sorted({r.lesson for r in results}))
    assert len(reports) == len(results)
    hidden_lines = set()
    for lesson in {r.lesson for r in results}:
        solution = nbformat.read(ROOT / "solutions" / lesson / f"{lesson}.ipynb", 4)
        released = nbformat.read(ROOT / "lessons" / lesson / f"{lesson}.ipynb", 4)
        public = {line.strip() for cell in released.cells for line in cell.source.splitlines()}
        for cell in solution.cells:
            region = re.search(r"### BEGIN HIDDEN TESTS\n(.*)### END HIDDEN TESTS",
                               cell.source, re.S)
            if region:  # lines only the hidden tests have
                hidden_lines |= {line.strip() for line in region.group(1).splitlines()
                                 if len(line.strip()) > 25} - public
    for report in reports:
        html = report.read_text()
        assert "BEGIN HIDDEN TESTS" not in html
        leaked = [line for line in hidden_lines if line in html]
        assert not leaked, f"{report}: hidden test source {leaked[:3]}"
    dan = (course / "feedback" / "dan" / "01_loss_and_cost" / "01_loss_and_cost.html").read_text()
    assert "is not right" in dan and "minus" in dan  # the public test's message and hint


def test_one_job_and_regrading_give_the_same_gradebook(sample_class, tmp_path):
    _, results, _, _ = sample_class
    again, _, _ = grading.grade_class(CLASS, tmp_path / "again", lessons=["01_loss_and_cost"],
                                      jobs=1, timeout=TIMEOUT, progress=quiet)
    first = {k: v for k, v in per_cell(results).items() if k[1] == "01_loss_and_cost"}
    assert per_cell(again) == first


def test_class_table_and_figure(sample_class, tmp_path):
    _, results, _, _ = sample_class
    table = class_table(results, grading.lessons_in())
    lines = {line.split()[0]: line for line in table.splitlines()[1:]}
    for student, lessons in EXPECTED.items():
        total = sum(sum(cells.values()) for cells in lessons.values())
        assert f" {total:g} " in lines[student] + " ", lines[student]
    assert "time limit" in lines["eve"] and "called nnlib" in lines["finn"]
    png = exercise_figure(results, tmp_path / "exercises.png")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_flat_zip_and_files_that_are_not_understood(tmp_path):
    archive = tmp_path / "export.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.write(CLASS / "finn_01_loss_and_cost.ipynb", "finn_01_loss_and_cost.ipynb")
        zf.write(CLASS / "ada" / "01_loss_and_cost" / "01_loss_and_cost.ipynb",
                 "ada/01_loss_and_cost/01_loss_and_cost.ipynb")
        zf.writestr("ada/01_loss_and_cost/my_work.ipynb", "{}")
        zf.writestr("notes.txt", "hello")
        zf.writestr("zoe_99_unknown.ipynb", "{}")
        zf.writestr("../escape_01_loss_and_cost.ipynb", "{}")
    found, skipped = find_submissions(archive, grading.lessons_in(), unpack_to=tmp_path / "x")
    assert [(s.student, s.lesson) for s in found] == [("ada", "01_loss_and_cost"),
                                                       ("finn", "01_loss_and_cost")]
    reasons = {s.path: s.reason for s in skipped}
    assert reasons["ada/01_loss_and_cost/my_work.ipynb"] == (
        "expected the notebook to be named 01_loss_and_cost.ipynb")
    assert reasons["notes.txt"] == "not a notebook (.ipynb)"
    assert "expected <student>_<lesson>.ipynb" in reasons["zoe_99_unknown.ipynb"]
    assert not (tmp_path / "escape_01_loss_and_cost.ipynb").exists()


# ------------------------------------------------------------------ robustness


@pytest.fixture(scope="module")
def abuse(tmp_path_factory):
    """Grade every robustness case as one class (2 jobs); return (results, out, listener)."""
    tmp = tmp_path_factory.mktemp("abuse")
    submissions, out = tmp / "submissions", tmp / "out"
    listener = socket.create_server(("127.0.0.1", 0))  # what a snooper would try to reach
    ctx = {"root": ROOT, "solution": ROOT / "solutions" / "01_loss_and_cost" /
           "01_loss_and_cost.ipynb", "gradebook": out / "gradebook.db",
           "submissions": submissions, "out": out, "port": listener.getsockname()[1]}
    lesson = ROBUSTNESS["LESSON"]
    complete = nbformat.read(CLASS / "ada" / lesson / f"{lesson}.ipynb", 4)
    for case in ROBUSTNESS["CASES"]:
        notebook = nbformat.from_dict(json.loads(json.dumps(complete)))
        case["edit"](notebook, ctx)
        path = submissions / case["name"] / lesson / f"{lesson}.ipynb"
        path.parent.mkdir(parents=True)
        nbformat.write(notebook, path)
    for name, (content, _) in ROBUSTNESS["BROKEN_FILES"].items():
        (submissions / f"{name}_{lesson}.ipynb").write_bytes(content)
    results, skipped, _ = grading.grade_class(submissions, out, jobs=2, timeout=ABUSE_TIMEOUT,
                                              memory_mb=ABUSE_MEMORY_MB, progress=quiet)
    assert skipped == []
    yield {r.student: r for r in results}, out
    listener.close()


def _exercise_cells(lesson):
    solution = nbformat.read(ROOT / "solutions" / lesson / f"{lesson}.ipynb", 4)
    cells, current = {}, None
    for cell in solution.cells:
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("solution"):
            current = meta["grade_id"]
        elif meta.get("grade"):
            cells[meta["grade_id"]] = (current, meta["points"])
    return cells


@pytest.mark.parametrize("case", ROBUSTNESS["CASES"], ids=lambda c: c["name"])
def test_abusive_submission_gets_the_points_its_honest_parts_earn(case, abuse):
    results, _ = abuse
    result = results[case["name"]]
    expected = {g: 0.0 if exercise in case["loses"] else float(points)
                for g, (exercise, points) in _exercise_cells(ROBUSTNESS["LESSON"]).items()}
    got = {g: s for g, (s, _) in result.scores.items()}
    assert got == expected, {g: (expected[g], got[g]) for g in got if got[g] != expected[g]}
    flags = "; ".join(result.flags)
    if case["flag"]:
        assert case["flag"] in flags, flags


@pytest.mark.parametrize("name", sorted(ROBUSTNESS["BROKEN_FILES"]))
def test_a_file_that_is_not_a_notebook_scores_zero_with_a_reason(name, abuse):
    results, _ = abuse
    result = results[name]
    assert result.score == 0 and result.max_score == 100
    assert ROBUSTNESS["BROKEN_FILES"][name][1] in "; ".join(result.flags)


def test_student_code_cannot_snoop_or_reach_the_network(abuse):
    assert bubblewrap(), "bubblewrap is required for the sandbox (make test installs it)"
    _, out = abuse
    lesson = ROBUSTNESS["LESSON"]
    graded = nbformat.read(out / "course" / "autograded" / "snoops" / lesson / f"{lesson}.ipynb",
                           4)
    printed = "".join(o.get("text", "") for c in graded.cells for o in c.get("outputs", []))
    line = next(line for line in printed.splitlines() if line.startswith("SNOOP"))
    seen = ast.literal_eval(line.removeprefix("SNOOP "))  # the student's dict of booleans
    assert seen and not any(seen.values()), f"student code could reach: {seen}"


def test_a_notebook_slow_everywhere_keeps_what_it_earned_within_its_time_limit(tmp_path):
    """Each answer sleeps 8 s, under the 10 s cell limit; the notebook may take 21 s in all.

    The first two answers and their tests finish by about 17 s, the third answer starts then
    and ends near 25 s, so the third exercise's tests come after the budget: not run, 0.
    """
    lesson = ROBUSTNESS["LESSON"]
    notebook = nbformat.read(CLASS / "ada" / lesson / f"{lesson}.ipynb", 4)
    for exercise in ["binary_crossentropy", "mean_squared_error", "cost"]:
        ROBUSTNESS["prepend"](exercise, "import time\ntime.sleep(8)")(notebook, {})
    path = tmp_path / "class" / "sleepy" / lesson / f"{lesson}.ipynb"
    path.parent.mkdir(parents=True)
    nbformat.write(notebook, path)
    [result], _, _ = grading.grade_class(tmp_path / "class", tmp_path / "out", jobs=1,
                                         timeout=10, notebook_timeout=21, progress=quiet)
    expected = {g: 0.0 if exercise == "cost" else float(points)
                for g, (exercise, points) in _exercise_cells(lesson).items()}
    assert {g: s for g, (s, _) in result.scores.items()} == expected
    assert "later cells were not run" in "; ".join(result.flags)


def test_grading_never_empties_a_folder_it_did_not_make(tmp_path):
    (tmp_path / "thesis.tex").write_text("precious")
    with pytest.raises(FileExistsError, match="not made by `nncourse grade`"):
        grading.grade_class(CLASS, tmp_path, progress=quiet)
    assert (tmp_path / "thesis.tex").read_text() == "precious"


def test_release_reproduces_the_committed_lessons(tmp_path):
    from nncourse.release import release

    root = tmp_path / "course"
    shutil.copytree(ROOT / "solutions", root / "solutions")
    shutil.copy(ROOT / "nbgrader_config.py", root)
    released = release(root=root)
    assert len(released) == len(grading.lessons_in())
    for path in released:
        committed = ROOT / path.relative_to(root)
        assert path.read_bytes() == committed.read_bytes(), committed


def test_grade_command_prints_the_table_and_writes_the_reports(tmp_path):
    archive = tmp_path / "export.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.write(CLASS / "finn_01_loss_and_cost.ipynb", "finn_01_loss_and_cost.ipynb")
        zf.writestr("readme.txt", "not a submission")
    out = tmp_path / "out"
    run = subprocess.run([str(Path(sys.executable).parent / "nncourse"), "grade", str(archive),
                          "--out", str(out), "--jobs", "1"],
                         capture_output=True, text=True, cwd=tmp_path, check=True)
    expected = sum(EXPECTED["finn"]["01_loss_and_cost"].values())
    row = next(line for line in run.stdout.splitlines() if line.startswith("finn"))
    assert row.split()[1] == f"{expected:g}", run.stdout
    assert "not graded: readme.txt: not a notebook (.ipynb)" in run.stdout
    rows = {row["assignment"]: float(row["score"])
            for row in csv.DictReader((out / "grades.csv").open()) if row["student_id"] == "finn"}
    assert rows.pop("01_loss_and_cost") == expected
    assert set(rows.values()) == {0.0}  # nbgrader exports a lesson not handed in as 0
    assert (out / "course" / "feedback" / "finn" / "01_loss_and_cost" /
            "01_loss_and_cost.html").stat().st_size > 0
