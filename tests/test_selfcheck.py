"""`nncourse check`: a learner's self-check grades as `nncourse grade` does, and says why.

The sample class's notebooks (examples/class) have known grades, written down when the class
was made (examples/expected_grades.json): the self-check must give exactly those.
"""

import hashlib
import json
from pathlib import Path

import pytest

from nncourse import cli, selfcheck

ROOT = Path(__file__).resolve().parents[1]
CLASS = ROOT / "examples" / "class"
EXPECTED = json.loads((ROOT / "examples" / "expected_grades.json").read_text())
NOTEBOOKS = sorted(CLASS.rglob("*.ipynb"))

pytestmark = pytest.mark.grading


def student_of(path):
    """ada for ada/01_loss_and_cost/01_loss_and_cost.ipynb and for ada_01_loss_and_cost.ipynb."""
    return path.parent.parent.name if path.parent != CLASS else path.stem.split("_", 1)[0]


def digest(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def checked():
    before = {path: digest(path) for path in NOTEBOOKS}
    results = selfcheck.check(NOTEBOOKS, jobs=2)
    assert {path: digest(path) for path in NOTEBOOKS} == before  # the learner's files
    return results


def test_the_self_check_gives_the_sample_class_its_expected_grades(checked):
    assert sum(len(lessons) for lessons in EXPECTED.values()) == len(NOTEBOOKS) == 12
    for item in checked:
        student = student_of(item.path)
        got = {grade_id: score for grade_id, (score, _) in item.result.scores.items()}
        assert got == EXPECTED[student][item.lesson], (student, item.lesson)


def test_the_report_gives_points_per_exercise_and_messages_never_hidden_code(checked):
    from nncourse.course import SOLUTIONS, notebook_path

    for item in checked:
        text = selfcheck.report(item)
        assert text.splitlines()[0].startswith(f"{item.path} ({item.lesson}): ")
        source = notebook_path(SOLUTIONS, item.lesson).read_text()
        hidden_lines = {line.strip() for cell in json.loads(source)["cells"]
                        if "BEGIN HIDDEN TESTS" in "".join(cell["source"])
                        for line in "".join(cell["source"]).splitlines()[2:-1]
                        if len(line.strip()) > 25}  # the hidden tests' own code
        assert hidden_lines and not [line for line in hidden_lines if line in text], item.path
    cleo = next(c for c in checked if student_of(c.path) == "cleo")
    text = selfcheck.report(cleo)
    # her logits overflow: the public test's message and the hidden test's, each once
    assert "bce_from_logits              8/17" in text
    assert "failed: test_logits_overflow\n" in text and "returned inf or nan" in text
    assert "failed: test_logits_hidden (hidden)" in text
    assert "cost                         0/13  not done yet" in text
    assert "explain_logits               0/5  not answered yet" in text  # left as released
    ada = selfcheck.report(next(c for c in checked if c.lesson == "01_loss_and_cost"
                                and student_of(c.path) == "ada"))
    assert "explain_minus_sign           awaits a person (5 points)" in ada
    assert "10 more await a person" in ada


def test_a_file_that_is_no_lesson_is_one_error_line(tmp_path, capsys):
    other = tmp_path / "notes.ipynb"
    other.write_text(json.dumps({"cells": [], "metadata": {}, "nbformat": 4,
                                 "nbformat_minor": 5}))
    for path, why in ((other, "is not a lesson of this course"),
                      (tmp_path / "missing.ipynb", "no notebook at"),
                      (CLASS, "no notebook at")):
        assert cli.main(["check", str(path)]) == 2
        err = capsys.readouterr().err
        assert err.startswith("nncourse check: error: ") and err.count("\n") == 1, err
        assert why in err, err
