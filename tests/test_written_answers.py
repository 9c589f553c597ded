"""Written answers (nbgrader's manually graded answers) through `nncourse grade`, on the real
nbgrader, real kernels and the real formgrader.

The lesson is a copy of solutions/01_loss_and_cost with one written answer added (the real
lessons change while their written answers are being written): autograde leaves the answer
for a person, the class table, grades.csv and the gradebook say so, formgrader shows the grader
the rubric of the source notebook (the learner's feedback never does), and the points a grader
gives in formgrader count and survive the next gradings.
"""

import csv
import json
import shutil

import jupyter_servers
import pytest
from jupyter_servers import api as _get

from nncourse.course import SOLUTIONS, notebook_path, points
from nncourse.grading import grade_class
from nncourse.grading.report import class_table

LESSON = "01_loss_and_cost"
ANSWER_ID = "explain_sign"
WORTH = 10
QUESTION = "In a sentence or two: why must the loss carry a minus sign?"
MODEL_ANSWER = ("The logarithm of a probability is negative, and it grows as the prediction "
                "improves, so without the minus sign gradient descent would make the "
                "predictions worse.")
RUBRIC = ("**Rubric** (10 points)\n"
          "- 5 points: the log of a probability in (0, 1) is negative.\n"
          "- 5 points: minimising the sign-less cost pushes the predictions the wrong way.")
LEARNERS_TEXT = "Because log(f) < 0 for 0 < f < 1, and we want a cost we can minimise."

pytestmark = pytest.mark.grading


def quiet(_):
    pass


def lesson_with_a_written_answer(folder):
    """folder/01_loss_and_cost/: lesson 01's source with the question and the written answer
    (convention 6 of the lessons) after its last cell, its only written answer (any the
    lesson has are left out); return the notebook."""
    import nbformat

    from nncourse.grading import nbgrader

    shutil.copytree(SOLUTIONS / LESSON, folder / LESSON)
    path = notebook_path(folder, LESSON)
    nb = nbformat.read(path, as_version=4)
    nb.cells = [c for c in nb.cells if not nbgrader.is_written_answer(c)]
    answer = nbformat.v4.new_markdown_cell(f"{MODEL_ANSWER}\n\n{RUBRIC}")
    answer.metadata["nbgrader"] = {"grade": True, "solution": True, "locked": False,
                                   "points": WORTH, "grade_id": ANSWER_ID,
                                   "schema_version": 3}
    nb.cells += [nbformat.v4.new_markdown_cell(QUESTION), answer]
    nbformat.write(nb, path)
    return nb


def released(lessons_from, tmp):
    """nbgrader's release of the lesson in lessons_from."""
    import nbformat

    from nncourse.grading import nbgrader

    course = tmp / "release"
    shutil.copytree(lessons_from / LESSON, course / "source" / LESSON)
    nbgrader.generate(course, [LESSON], f"sqlite:///{tmp / 'release.db'}")
    return nbformat.read(notebook_path(course / "release", LESSON), as_version=4)


@pytest.fixture(scope="module")
def written(tmp_path_factory):
    """Two learners graded into OUT: `wrote` answered everything (the solution's code and a
    written answer of their own), `blank` handed in the release untouched."""
    import nbformat

    tmp = tmp_path_factory.mktemp("written")
    lessons_from = tmp / "lessons"
    source = lesson_with_a_written_answer(lessons_from)
    release = released(lessons_from, tmp)
    submissions = tmp / "submissions"
    wrote = nbformat.from_dict(json.loads(json.dumps(source)))
    wrote.cells[-1].source = LEARNERS_TEXT
    for student, nb in {"wrote": wrote, "blank": release}.items():
        path = notebook_path(submissions / student, LESSON)
        path.parent.mkdir(parents=True)
        nbformat.write(nb, path)
    grading = grade_class(submissions, tmp / "out", lessons=[LESSON], jobs=2, progress=quiet,
                          lessons_from=lessons_from)
    return {"grading": grading, "source": source, "release": release, "tmp": tmp,
            "submissions": submissions, "lessons_from": lessons_from,
            "results": {r.student: r for r in grading.results}}


def test_the_release_asks_for_the_answer_without_the_model_answer_or_rubric(written):
    from nncourse.grading import nbgrader

    cell = next(c for c in written["release"].cells if nbgrader.grade_id(c) == ANSWER_ID)
    assert cell.cell_type == "markdown" and nbgrader.is_written_answer(cell)
    assert "YOUR ANSWER HERE" in cell.source
    assert "Rubric" not in cell.source and MODEL_ANSWER not in cell.source


def test_autograde_leaves_a_written_answer_for_a_person(written):
    """The answer written awaits a person (no score, needs_manual_grade); the answer left as
    released scores 0 and awaits nothing; every autograded cell scores as the code does."""
    from nbgrader.api import Gradebook

    results = written["results"]
    autograded = {g: float(p) for g, p in points(written["source"]).items() if g != ANSWER_ID}
    assert results["wrote"].scores == {**{g: (p, p) for g, p in autograded.items()},
                                       ANSWER_ID: (None, WORTH)}
    assert results["wrote"].score == sum(autograded.values())
    assert results["wrote"].awaiting == [(ANSWER_ID, WORTH)]
    assert results["blank"].scores == {**{g: (0.0, p) for g, p in autograded.items()},
                                       ANSWER_ID: (0.0, WORTH)}
    assert results["blank"].awaiting == []
    with Gradebook(written["grading"].db_url, "nncourse") as gb:
        wrote = gb.find_grade(ANSWER_ID, LESSON, LESSON, "wrote")
        blank = gb.find_grade(ANSWER_ID, LESSON, LESSON, "blank")
        assert (wrote.auto_score, wrote.needs_manual_grade) == (None, True)
        assert (blank.auto_score, blank.needs_manual_grade) == (0.0, False)
        assert not gb.find_grade(next(iter(autograded)), LESSON, LESSON,
                                 "wrote").needs_manual_grade


def autograded_points(written):
    """The points of the lesson's autograded cells: all but the written answer's."""
    return sum(p for g, p in points(written["source"]).items() if g != ANSWER_ID)


def test_class_table_and_grades_csv_say_what_awaits_manual_grading(written):
    results, auto = written["grading"].results, autograded_points(written)
    lines = {line.split()[0]: line for line in class_table(results, [LESSON]).splitlines()}
    assert lines["wrote"].split()[1:3] == [f"{auto:g}", f"{auto:g}"], lines["wrote"]
    assert lines["wrote"].endswith("01: 1 answer awaits manual grading (10 points)")
    assert "await" not in lines["blank"], lines["blank"]
    rows = {r["student_id"]: r for r in
            csv.DictReader((written["grading"].course.parent / "grades.csv").open())}
    assert (rows["wrote"]["score"], rows["wrote"]["awaiting_manual_grading"],
            rows["wrote"]["awaiting_manual_points"]) == (f"{float(auto)}", "1", "10")
    assert (rows["blank"]["score"], rows["blank"]["awaiting_manual_grading"],
            rows["blank"]["awaiting_manual_points"]) == ("0.0", "0", "0")


def test_the_grader_gets_the_rubric_and_the_learner_never_does(written):
    from nbgrader.api import Gradebook

    from nncourse.grading import nbgrader

    grading = written["grading"]
    with Gradebook(grading.db_url, "nncourse") as gb:
        comment = gb.find_comment(ANSWER_ID, LESSON, LESSON, "wrote").auto_comment
        blank = gb.find_comment(ANSWER_ID, LESSON, LESSON, "blank").auto_comment
    assert comment == RUBRIC  # the source's text from the **Rubric** line, nothing before
    assert blank == f"No response.\n\n{RUBRIC}"
    reports = nbgrader.feedback(grading.course, grading.db_url, [LESSON])
    assert len(reports) == 2
    for report in reports:
        html = report.read_text()
        assert "Rubric" not in html and "is negative." not in html, report
        assert "gradient descent would make" not in html, report  # the model answer
    wrote = next(r for r in reports if r.parent.parent.name == "wrote").read_text()
    assert "we want a cost we can minimise" in wrote
    assert "No response." in next(r for r in reports if r.parent.parent.name == "blank"
                                  ).read_text()


def test_points_given_in_formgrader_count_and_survive_grading_again(written, tmp_path):
    """A grader reads the rubric in formgrader and gives 7 of the 10 points through its page's
    API; the next `nncourse grade` (nothing changed) and a --regrade keep them: they count in
    the scores, the table and grades.csv, and nothing awaits manual grading any more."""
    grading, out = written["grading"], written["grading"].course.parent
    given = autograded_points(written) + 7

    def again(**options):
        return grade_class(written["submissions"], out, lessons=[LESSON], jobs=2,
                           progress=quiet, lessons_from=written["lessons_from"], **options)

    with jupyter_servers.formgrader(out, tmp_path) as (port, _):
        notebook = {n["student"]: n for n in
                    _get(port, f"/formgrader/api/submitted_notebooks/{LESSON}/{LESSON}")}
        wrote = notebook["wrote"]["id"]
        assert notebook["wrote"]["needs_manual_grade"] is True
        comments = {c["name"]: c for c in
                    _get(port, f"/formgrader/api/comments?submission_id={wrote}")}
        assert comments[ANSWER_ID]["auto_comment"] == RUBRIC
        grade = next(g for g in _get(port, f"/formgrader/api/grades?submission_id={wrote}")
                     if g["name"] == ANSWER_ID)
        assert grade["auto_score"] is None and grade["needs_manual_grade"] is True
        assert _get(port, f"/formgrader/api/grade/{grade['id']}", put={"manual_score": 7.0})
        for regrade in (False, True):  # unchanged: kept; graded again: kept too
            run = again(regrade=regrade)
            result = next(r for r in run.results if r.student == "wrote")
            assert result.graded_now == regrade
            assert result.scores[ANSWER_ID] == (7.0, WORTH) and result.awaiting == []
            line = next(line for line in class_table(run.results, [LESSON]).splitlines()
                        if line.startswith("wrote"))
            assert line.split()[1:3] == [f"{given:g}", f"{given:g}"], line
            assert "await" not in line, line
            rows = {r["student_id"]: r for r in csv.DictReader((out / "grades.csv").open())}
            assert (rows["wrote"]["score"], rows["wrote"]["awaiting_manual_grading"]) == (
                f"{float(given)}", "0")
        after = _get(port, f"/formgrader/api/grade/{grade['id']}")
        assert after["manual_score"] == 7.0 and after["auto_score"] is None
        assert grading.db_url == run.db_url


def test_the_graders_kernels_show_no_frame_of_the_checks(written):
    """The blank notebook, autograded by `nncourse grade` on its sandboxed kernels: its tests
    fail at the learner's unfinished functions (NotImplementedError, the last frame shown),
    and no traceback shows a frame of nncourse/check.py."""
    import re

    import nbformat

    course = written["grading"].course
    graded = nbformat.read(notebook_path(course / "autograded" / "blank", LESSON), 4)
    errors = [o for c in graded.cells for o in c.get("outputs", [])
              if o["output_type"] == "error"]
    assert "NotImplementedError" in {o["ename"] for o in errors}, errors
    for error in errors:
        frames = [re.sub(r"\x1b\[[0-9;]*m", "", frame) for frame in error["traceback"]]
        text = "\n".join(frames)
        assert "check.py" not in text, text
        if error["ename"] == "NotImplementedError":  # the learner's line, the last one shown
            assert "raise NotImplementedError()" in frames[-2], text
