"""Regenerate lessons/ from solutions/ with the real `nbgrader generate_assignment`.

nbgrader runs in a temporary course folder (so no gradebook is left in the repository); the
released notebooks are copied into lessons/ and checked: no solution code and no hidden test
may leak into what learners get.
"""

import shutil
import tempfile
from pathlib import Path

import nbformat

from nncourse.grading import ROOT, _nbgrader, lessons_in

LEAKS = ("BEGIN SOLUTION", "END SOLUTION", "BEGIN HIDDEN TESTS", "END HIDDEN TESTS")


def leaks(notebook_path):
    """The solution or hidden-test markers left in a released notebook (empty if none)."""
    notebook = nbformat.read(notebook_path, as_version=4)
    return sorted({marker for cell in notebook.cells for marker in LEAKS
                   if marker in cell.source})


def release(lessons=None, root=ROOT):
    """Regenerate lessons/<lesson>/ for each lesson; return the released notebook paths."""
    lessons = lessons or lessons_in(root)
    released = []
    with tempfile.TemporaryDirectory(prefix="nncourse-release-") as tmp:
        course = Path(tmp)
        shutil.copy(root / "nbgrader_config.py", course)
        for lesson in lessons:
            shutil.copytree(root / "solutions" / lesson, course / "solutions" / lesson)
            done = _nbgrader(["generate_assignment", lesson, "--force"], course)
            if done.returncode != 0:
                raise RuntimeError(f"nbgrader generate_assignment {lesson} failed:\n"
                                   f"{done.stderr[-2000:]}")
            target = root / "lessons" / lesson
            shutil.rmtree(target, ignore_errors=True)
            shutil.copytree(course / "lessons" / lesson, target)
            for path in sorted(target.glob("*.ipynb")):
                found = leaks(path)
                if found:
                    raise RuntimeError(f"{path} still contains {found}: fix solutions/{lesson}")
                released.append(path)
    return released
