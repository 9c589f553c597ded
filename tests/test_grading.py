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
import socket
import sys
import zipfile

import pytest

from nncourse import check, cli
from nncourse.course import RELEASE, ROOT, SOLUTIONS, exercises, lessons, notebook_path, points
from nncourse.grading import UsageError, grade_class
from nncourse.grading.limits import (
    CELL_TIMEOUT,
    KERNEL_DIED,
    NOTEBOOK_TIME_LIMIT,
    OUTPUT_TRUNCATED,
    Limits,
)
from nncourse.grading.report import FLAGS, TRUNCATED, class_table, exercise_figure, flags
from nncourse.grading.submissions import find_submissions

CLASS = ROOT / "examples" / "class"
EXPECTED = json.loads((ROOT / "examples" / "expected_grades.json").read_text())
ROBUSTNESS = runpy.run_path(str(ROOT / "tests" / "fixtures" / "robustness.py"))
SAMPLE = Limits(cell_s=60)  # the sample class: lesson 05 trains Keras in a cell
# lesson 01 only: its cells take well under a second; a memory hog reaches 1.5 GB in about one
ABUSE = Limits(cell_s=10, memory_mb=1500)

pytestmark = pytest.mark.grading


def quiet(_):
    pass


def per_cell(results):
    return {(r.student, r.lesson): {g: s for g, (s, _) in r.scores.items()} for r in results}


def read(path):
    import nbformat  # seconds to import: not while the tests are collected

    return nbformat.read(path, as_version=4)


def given(cells):
    """The points of a lesson's expected grades that are given: a written answer that awaits
    manual grading (expected null) has none yet."""
    return sum(score for score in cells.values() if score is not None)


def awaiting(lesson, cells):
    """(written answers that await manual grading, their points) of a lesson's expected
    grades; the points are the solution notebook's."""
    worth = points(read(notebook_path(SOLUTIONS, lesson)))
    waiting = [g for g, score in cells.items() if score is None]
    return len(waiting), sum(worth[g] for g in waiting)


@pytest.fixture(scope="module")
def sample_class(tmp_path_factory):
    return grade_class(CLASS, tmp_path_factory.mktemp("sample") / "out", jobs=2, limits=SAMPLE,
                       progress=quiet)


def test_sample_class_gets_exactly_the_expected_grades(sample_class):
    results, skipped, _, _ = sample_class
    assert skipped == []
    got = per_cell(results)
    expected = {(s, lesson): cells for s, lessons in EXPECTED.items()
                for lesson, cells in lessons.items()}
    assert set(got) == set(expected)
    wrong = {key: {g: (expected[key][g], got[key].get(g)) for g in expected[key]
                   if got[key].get(g) != expected[key][g]} for key in expected}
    assert not any(wrong.values()), {k: v for k, v in wrong.items() if v}


def test_gradebook_and_csv_hold_the_same_grades(sample_class, tmp_path):
    from nncourse.grading import nbgrader

    results, _, _, db_url = sample_class
    for r in results:
        assert nbgrader.scores(db_url, r.lesson, r.student) == r.scores, (r.student, r.lesson)
    rows = list(csv.DictReader(nbgrader.export(db_url, tmp_path / "grades.csv").open()))
    exported = {(row["student_id"], row["assignment"]): (
        float(row["score"]), int(row["awaiting_manual_grading"]),
        float(row["awaiting_manual_points"])) for row in rows}
    for student, graded in EXPECTED.items():
        for lesson, cells in graded.items():
            assert exported[(student, lesson)] == (given(cells), *awaiting(lesson, cells)), (
                student, lesson)


def test_feedback_says_why_without_showing_hidden_tests(sample_class):
    from nncourse.grading import nbgrader

    results, _, course, db_url = sample_class
    reports = nbgrader.feedback(course, db_url, sorted({r.lesson for r in results}))
    assert len(reports) == len(results)
    hidden_lines = set()
    for lesson in {r.lesson for r in results}:
        solution = read(notebook_path(SOLUTIONS, lesson))
        released = read(notebook_path(RELEASE, lesson))
        public = {line.strip() for cell in released.cells for line in cell.source.splitlines()}
        for cell in solution.cells:
            region = re.search(r"### BEGIN HIDDEN TESTS\n(.*)### END HIDDEN TESTS",
                               cell.source, re.S)
            if region:  # lines only the hidden tests have (not even inside a public line)
                hidden_lines |= {line.strip() for line in region.group(1).splitlines()
                                 if len(line.strip()) > 25
                                 and not any(line.strip() in shown for shown in public)}
    for report in reports:
        html = report.read_text()
        assert "BEGIN HIDDEN TESTS" not in html
        leaked = [line for line in hidden_lines if line in html]
        assert not leaked, f"{report}: hidden test source {leaked[:3]}"
    dan = (course / "feedback" / "dan" / "01_loss_and_cost" / "01_loss_and_cost.html").read_text()
    assert "is not right" in dan and "minus" in dan  # the public test's message and hint


def test_each_flag_reaches_formgrader_and_flags_csv(sample_class):
    """The sample class's flags (examples/make_class.py: eve's endless loop, finn's answers
    that call nnlib) are in the gradebook, as formgrader shows them: the notebook flagged, the
    flag's text in the comment on the answer concerned (the first one, for finn); and in
    OUT/flags.csv. No other notebook is flagged."""
    from nbgrader.api import Gradebook

    students = runpy.run_path(str(ROOT / "examples" / "make_class.py"))["STUDENTS"]
    wanted = {"endless": FLAGS[CELL_TIMEOUT], "calls_nnlib": FLAGS[check.CalledNnlib.__name__]}
    expected = {}  # (student, lesson) -> (the first answer concerned, flag)
    for student, spec in students.items():
        for lesson, answers in spec["lessons"].items():
            for answer, kind in (answers if isinstance(answers, dict) else {}).items():
                for marker, flag in wanted.items():
                    if kind.endswith(marker):
                        expected.setdefault((student, lesson), (answer, flag))
    assert set(expected) == {("eve", "03_activation_functions"), ("finn", "01_loss_and_cost")}
    results, _, course, db_url = sample_class
    with Gradebook(db_url, "nncourse") as gb:
        for r in results:
            notebook = gb.find_submission_notebook(r.lesson, r.lesson, r.student)
            assert notebook.flagged == ((r.student, r.lesson) in expected), (r.student, r.lesson)
        for (student, lesson), (answer, flag) in expected.items():
            comment = gb.find_comment(answer, lesson, lesson, student)
            assert flag in comment.auto_comment.splitlines(), comment.auto_comment
    rows = list(csv.DictReader((course.parent / "flags.csv").open()))
    assert {(row["student_id"], row["assignment"], row["flag"]) for row in rows} == {
        (student, lesson, flag) for (student, lesson), (_, flag) in expected.items()}


def test_one_job_and_regrading_give_the_same_gradebook(sample_class, tmp_path):
    results = sample_class.results
    again = grade_class(CLASS, tmp_path / "again", lessons=["01_loss_and_cost"], jobs=1,
                        limits=SAMPLE, progress=quiet).results
    first = {k: v for k, v in per_cell(results).items() if k[1] == "01_loss_and_cost"}
    assert per_cell(again) == first


def test_class_table_and_figure(sample_class, tmp_path):
    results = sample_class.results
    table = class_table(results, lessons())
    lines = {line.split()[0]: line for line in table.splitlines()[1:]}
    for student, graded in EXPECTED.items():
        total = sum(given(cells) for cells in graded.values())
        assert f" {total:g} " in lines[student] + " ", lines[student]
        for lesson, cells in graded.items():  # the written answers a person must still grade
            count, worth = awaiting(lesson, cells)
            note = (f"{int(lesson[:2]):02d}: {count} answer{' awaits' if count == 1 else 's await'}"
                    f" manual grading ({worth:g} point{'' if worth == 1 else 's'})")
            assert (note in lines[student]) == (count > 0), (note, lines[student])
    assert f"03: {FLAGS[CELL_TIMEOUT]}" in lines["eve"]
    assert f"01: {FLAGS[check.CalledNnlib.__name__]}" in lines["finn"]
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
    found, skipped = find_submissions(archive, lessons(), unpack_to=tmp_path / "x")
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
    import nbformat

    tmp = tmp_path_factory.mktemp("abuse")
    submissions, out = tmp / "submissions", tmp / "out"
    listener = socket.create_server(("127.0.0.1", 0))  # what a snooper would try to reach
    lesson = ROBUSTNESS["LESSON"]
    ctx = {"root": ROOT, "solution": notebook_path(SOLUTIONS, lesson),
           "gradebook": out / "gradebook.db", "submissions": submissions, "out": out,
           "port": listener.getsockname()[1]}
    complete = read(notebook_path(CLASS / "ada", lesson))
    for case in ROBUSTNESS["CASES"]:
        notebook = nbformat.from_dict(json.loads(json.dumps(complete)))
        case["edit"](notebook, ctx)
        path = notebook_path(submissions / case["name"], lesson)
        path.parent.mkdir(parents=True)
        nbformat.write(notebook, path)
    for name, (content, _) in ROBUSTNESS["BROKEN_FILES"].items():
        (submissions / f"{name}_{lesson}.ipynb").write_bytes(content)
    results, skipped, _, _ = grade_class(submissions, out, jobs=2, limits=ABUSE, progress=quiet)
    assert skipped == []
    yield {r.student: r for r in results}, out
    listener.close()


def expected_scores(lesson, lost, submitted):
    """{grade_id: points} of the lesson's graded cells: 0 for the test cells of the exercises
    in lost; for a written answer, None (it awaits a person) when the submitted notebook
    answered it, 0 when it left it as released or lost it (nbgrader's rule)."""
    from nncourse.grading.nbgrader import grade_id, is_written_answer

    solution = read(notebook_path(SOLUTIONS, lesson))
    released = {grade_id(c): c.source for c in read(notebook_path(RELEASE, lesson)).cells}
    texts = {}
    for cell in submitted.cells:
        texts.setdefault(grade_id(cell), cell.source)
    zero = {g for exercise in lost for g in exercises(solution)[exercise]}
    written = {grade_id(c) for c in solution.cells if is_written_answer(c)}
    return {g: (None if texts.get(g, released[g]) != released[g] else 0.0) if g in written
            else 0.0 if g in zero else float(p) for g, p in points(solution).items()}


@pytest.mark.parametrize("case", ROBUSTNESS["CASES"], ids=lambda c: c["name"])
def test_abusive_submission_gets_the_points_its_honest_parts_earn(case, abuse):
    results, out = abuse
    result = results[case["name"]]
    lesson = ROBUSTNESS["LESSON"]
    submitted = read(notebook_path(out.parent / "submissions" / case["name"], lesson))
    expected = expected_scores(lesson, case["loses"], submitted)
    got = {g: s for g, (s, _) in result.scores.items()}
    assert got == expected, {g: (expected[g], got[g]) for g in got if got[g] != expected[g]}
    if case["flag"]:
        assert case["flag"] in "; ".join(result.flags), result.flags
    else:
        assert result.flags == []


@pytest.mark.parametrize("name", sorted(ROBUSTNESS["BROKEN_FILES"]))
def test_a_file_that_is_not_a_notebook_scores_zero_with_a_reason(name, abuse):
    results, _ = abuse
    result = results[name]
    assert result.score == 0 and result.max_score == 100
    assert ROBUSTNESS["BROKEN_FILES"][name][1] in "; ".join(result.flags)


def test_student_code_cannot_snoop_or_reach_the_network(abuse):
    from nncourse.grading.sandbox import bubblewrap

    assert bubblewrap(), "bubblewrap is required for the sandbox (make test installs it)"
    _, out = abuse
    graded = read(notebook_path(out / "course" / "autograded" / "snoops", ROBUSTNESS["LESSON"]))
    printed = "".join(o.get("text", "") for c in graded.cells for o in c.get("outputs", []))
    line = next(line for line in printed.splitlines() if line.startswith("SNOOP"))
    seen = ast.literal_eval(line.removeprefix("SNOOP "))  # the student's dict of booleans
    assert seen and not any(seen.values()), f"student code could reach: {seen}"


def test_flags_come_from_markers_never_from_printed_words():
    """A check's marker flags a notebook whatever its message says; what a student prints,
    the names of every marker included, flags nothing."""
    from nbformat.v4 import new_code_cell, new_notebook, new_output

    markers = [check.CalledNnlib, check.LibraryReplaced, check.CheckSwitchedOff]
    printed = "\n".join([*FLAGS, *FLAGS.values(), TRUNCATED, "... Output truncated ..."])
    honest = new_notebook(cells=[new_code_cell(outputs=[new_output("stream", text=printed)])])
    assert flags(honest) == []
    reworded = new_notebook(cells=[new_code_cell(outputs=[
        new_output("error", ename=marker.__name__, evalue="any wording", traceback=[])])
        for marker in markers])
    assert flags(reworded) == [FLAGS[marker.__name__] for marker in markers]
    cut = new_code_cell(outputs=[new_output("stream", text="spam")])
    cut.metadata[OUTPUT_TRUNCATED] = True
    assert flags(new_notebook(cells=[cut])) == [TRUNCATED]
    limits = [CELL_TIMEOUT, NOTEBOOK_TIME_LIMIT, KERNEL_DIED, "MemoryError"]
    hit = new_notebook(cells=[new_code_cell(outputs=[
        new_output("error", ename=name, evalue="", traceback=[])]) for name in limits * 2])
    assert flags(hit) == [FLAGS[name] for name in limits]  # each flag once


def test_a_notebook_slow_everywhere_keeps_what_it_earned_within_its_time_limit(tmp_path):
    """Each answer sleeps 8 s, under the 10 s cell limit; the notebook may take 21 s in all.

    The first two answers and their tests finish by about 17 s, the third answer starts then
    and ends near 25 s, so the third exercise's tests, and every cell after them, come after
    the budget: not run, 0. (Written answers are not run: the person grading them decides.)
    """
    import nbformat

    lesson = ROBUSTNESS["LESSON"]
    notebook = read(notebook_path(CLASS / "ada", lesson))
    for exercise in ["binary_crossentropy", "mean_squared_error", "cost"]:
        ROBUSTNESS["prepend"](exercise, "import time\ntime.sleep(8)")(notebook, {})
    path = notebook_path(tmp_path / "class" / "sleepy", lesson)
    path.parent.mkdir(parents=True)
    nbformat.write(notebook, path)
    [result], _, _, _ = grade_class(tmp_path / "class", tmp_path / "out", jobs=1,
                                    limits=Limits(cell_s=10, notebook_s=21), progress=quiet)
    order = list(exercises(read(notebook_path(SOLUTIONS, lesson))))
    late = order[order.index("cost"):]  # cost, and the exercises after it
    assert {g: s for g, (s, _) in result.scores.items()} == expected_scores(lesson, late,
                                                                              notebook)
    assert result.flags == [FLAGS[NOTEBOOK_TIME_LIMIT]]


def test_grading_never_writes_into_a_folder_it_did_not_make(tmp_path):
    (tmp_path / "thesis.tex").write_text("precious")
    with pytest.raises(UsageError, match="not made by `nncourse grade`"):
        grade_class(CLASS, tmp_path, progress=quiet)
    assert [p.name for p in tmp_path.iterdir()] == ["thesis.tex"]
    assert (tmp_path / "thesis.tex").read_text() == "precious"


def test_grade_command_prints_the_table_and_writes_the_reports(tmp_path, capsys):
    archive = tmp_path / "export.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.write(CLASS / "finn_01_loss_and_cost.ipynb", "finn_01_loss_and_cost.ipynb")
        zf.writestr("readme.txt", "not a submission")
    out = tmp_path / "out"
    assert cli.main(["grade", str(archive), "--out", str(out), "--jobs", "1"]) == 0
    printed = capsys.readouterr().out
    expected = given(EXPECTED["finn"]["01_loss_and_cost"])
    row = next(line for line in printed.splitlines() if line.startswith("finn"))
    assert row.split()[1] == f"{expected:g}", printed
    assert "not graded: readme.txt: not a notebook (.ipynb)" in printed
    rows = {row["assignment"]: float(row["score"])
            for row in csv.DictReader((out / "grades.csv").open()) if row["student_id"] == "finn"}
    assert rows.pop("01_loss_and_cost") == expected
    assert set(rows.values()) == {0.0}  # nbgrader exports a lesson not handed in as 0
    assert notebook_path(out / "course" / "feedback" / "finn", "01_loss_and_cost").with_suffix(
        ".html").stat().st_size > 0


def test_a_command_whose_dependency_is_missing_names_the_extra_to_install():
    """As after `pip install nncourse` without the course extra: nbgrader cannot be imported
    (Python's own way to block an import, in a fresh interpreter)."""
    import subprocess

    run = subprocess.run(
        [sys.executable, "-c", "import sys; sys.modules['nbgrader'] = None\n"
         "from nncourse.cli import main; raise SystemExit(main(['release', '--out', 'x']))"],
        capture_output=True, text=True)
    assert run.returncode == 1 and run.stdout == ""
    assert run.stderr.splitlines() == [
        "nncourse release needs nbgrader, which is not installed: "
        "pip install 'nncourse[course]' (or pip install -r requirements.txt)"]
