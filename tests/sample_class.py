"""Two students of the sample class, graded by `nncourse grade`: a class small enough to start
formgrader on, whose grades are known without grading (examples/expected_grades.json)."""

import json
import shutil
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LESSON = "01_loss_and_cost"
# ids as a university has them (with "_", refused before): ada's notebook in nbgrader's layout,
# finn's as a flat file
IDS = {"jane_doe": "ada", "s_1234567": "finn"}
EXPECTED = json.loads((ROOT / "examples" / "expected_grades.json").read_text())


def grade(tmp):
    """The class of IDS graded in tmp/out; returns (OUT, {id: Result}, SUBMISSIONS)."""
    from nncourse.grading import grade_class

    source = tmp / "class"
    shutil.copytree(ROOT / "examples" / "class" / "ada" / LESSON, source / "jane_doe" / LESSON)
    shutil.copy(ROOT / "examples" / "class" / f"finn_{LESSON}.ipynb",
                source / f"s_1234567_{LESSON}.ipynb")
    grading = grade_class(source, tmp / "out", lessons=[LESSON], jobs=2,
                          progress=lambda _: None)
    assert grading.skipped == []
    return tmp / "out", {r.student: r for r in grading.results}, source
