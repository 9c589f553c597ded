"""The course's lessons: where they are, their exercises, and their release.

A lesson is a folder solutions/<lesson>/<lesson>.ipynb, the instructor's notebook (nbgrader's
*source*); `release` makes the learners' lessons/<lesson>/<lesson>.ipynb from it with nbgrader
and checks that no solution code and no hidden test leaks into it.

nbgrader and nbformat take seconds to import, so they are imported only by the functions that
use them: listing the lessons stays instant for `nncourse --help` and for collecting the tests.
"""

import shutil
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SOLUTIONS = ROOT / "solutions"  # nbgrader's source: the instructor's notebooks
RELEASE = ROOT / "lessons"  # nbgrader's release: what learners get (generated, committed)
# nbgrader's markers around what learners must not get
LEAKS = ("BEGIN SOLUTION", "END SOLUTION", "BEGIN HIDDEN TESTS", "END HIDDEN TESTS")


def lessons():
    """The lessons, sorted: the folders solutions/<lesson>/ holding <lesson>.ipynb."""
    return sorted(p.parent.name for p in SOLUTIONS.glob("*/*.ipynb") if p.stem == p.parent.name)


def notebook_path(folder, lesson):
    """folder/<lesson>/<lesson>.ipynb: a lesson's notebook in any of nbgrader's folders."""
    return Path(folder) / lesson / f"{lesson}.ipynb"


def number(lesson):
    """The lesson's number: 1 for "01_loss_and_cost"."""
    return int(lesson.split("_", 1)[0])


def exercises(notebook):
    """{solution cell grade_id: [grade_ids of the graded cells up to the next solution cell]}."""
    from nncourse.grading.nbgrader import grade_id, is_grade, is_solution

    result, current = {}, None
    for cell in notebook.cells:
        if is_solution(cell):
            current = result.setdefault(grade_id(cell), [])
        elif is_grade(cell) and current is not None:
            current.append(grade_id(cell))
    return result


def points(notebook):
    """{grade_id: points} of the graded test cells, in notebook order."""
    from nncourse.grading.nbgrader import grade_id, is_grade, max_points

    return {grade_id(c): max_points(c) for c in notebook.cells if is_grade(c)}


def leaks(notebook):
    """What a learner must not get, left in a notebook: the solution and hidden-test markers
    found, and "speaker notes" if a lecturer's notes cell (slideshow.slide_type "notes") is
    there. Empty if none."""
    from nncourse.slides import is_speaker_notes

    found = {marker for cell in notebook.cells for marker in LEAKS if marker in cell.source}
    if any(is_speaker_notes(cell) for cell in notebook.cells):
        found.add("speaker notes")
    return sorted(found)


def copy_sources(course, names):
    """course/source/<lesson>/: the named lessons' solution folders, as nbgrader's source."""
    for lesson in names:
        shutil.copytree(SOLUTIONS / lesson, Path(course) / "source" / lesson)


def release(selected=None, out=RELEASE):
    """Generate out/<lesson>/ from solutions/<lesson>/ for the selected lessons (default: all)
    with nbgrader; return the released notebooks.

    nbgrader runs in a temporary course folder (no gradebook is left behind); it drops the
    lecturer's speaker notes (nbgrader.generate). Each lesson is checked for leaks (solution
    code, hidden tests, speaker notes) before anything in `out` is replaced.
    """
    import nbformat

    from nncourse.grading import nbgrader

    names = selected or lessons()
    out = Path(out)
    with tempfile.TemporaryDirectory(prefix="nncourse-release-") as tmp:
        course = Path(tmp)
        copy_sources(course, names)
        nbgrader.generate(course, names, f"sqlite:///{course / 'gradebook.db'}")
        for lesson in names:
            for path in sorted((course / "release" / lesson).glob("*.ipynb")):
                found = leaks(nbformat.read(path, as_version=4))
                if found:
                    raise RuntimeError(f"nbgrader's release of {lesson} still contains {found}: "
                                       f"fix solutions/{lesson}")
        released = []
        for lesson in names:
            shutil.rmtree(out / lesson, ignore_errors=True)
            shutil.copytree(course / "release" / lesson, out / lesson)
            released += sorted((out / lesson).glob("*.ipynb"))
    return released
