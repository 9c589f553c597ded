"""The checker of the lessons' conventions (tests/test_lessons.py: convention_problems and
output_problems) on a tiny lesson that follows them, released by nbgrader and run on a real
kernel: it finds nothing there, and finds each break of a convention made in a copy.
"""

import copy

import pytest
from test_lessons import HIDDEN_HEADER, convention_problems, output_problems

SETUP = "import numpy as np\nfrom nncourse import check"
SOLUTION = ('def double(X):\n    """2 X, same shape as X."""\n    ### BEGIN SOLUTION\n'
            '    return 2 * X\n    ### END SOLUTION')
PUBLIC = ('"""Checks that double doubles a vector."""\n'
          'check.same("double(X)", check.call(double, np.arange(3.0)), [0.0, 2.0, 4.0])\n'
          'print("Passed: double doubles a vector of 3 numbers.")')
HIDDEN = (f"{HIDDEN_HEADER}\n### BEGIN HIDDEN TESTS\nX = np.random.default_rng().normal(size=5)\n"
          'check.same("double(X)", check.call(double, X), X + X)\n### END HIDDEN TESTS')
ANSWER = ("Doubling is linear: it keeps zero at zero.\n\n**Rubric** (40 points)\n"
          "- 20 points: says it is linear.\n- 20 points: zero stays zero.")


def nbgrader_cell(cell, grade_id, points=None, grade=False, solution=False, locked=False):
    cell.metadata["nbgrader"] = {"grade": grade, "solution": solution, "locked": locked,
                                 "grade_id": grade_id, "schema_version": 3,
                                 **({"points": points} if points is not None else {})}
    return cell


def tiny_lesson():
    import nbformat
    from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

    nb = new_notebook(cells=[
        nbgrader_cell(new_code_cell(SETUP), "setup", locked=True),
        new_markdown_cell("Write `double(X)`."),
        nbgrader_cell(new_code_cell(SOLUTION), "double", solution=True),
        nbgrader_cell(new_code_cell(PUBLIC), "test_double_vector", 30, grade=True, locked=True),
        nbgrader_cell(new_code_cell(HIDDEN), "test_double_hidden", 30, grade=True, locked=True),
        new_markdown_cell("Why is doubling linear?"),
        nbgrader_cell(new_markdown_cell(ANSWER), "explain_double", 40, grade=True,
                      solution=True),
    ])
    nb.metadata.kernelspec = {"name": "python3", "display_name": "Python 3",
                              "language": "python"}
    return nbformat.from_dict(nb)


def release(nb, tmp_path):
    """nbgrader's release of nb, as lesson 01 of a course in tmp_path."""
    import nbformat

    from nncourse.grading import nbgrader

    lesson = "01_tiny"
    source = tmp_path / "source" / lesson / f"{lesson}.ipynb"
    source.parent.mkdir(parents=True)
    nbformat.write(nb, source)
    nbgrader.generate(tmp_path, [lesson], f"sqlite:///{tmp_path / 'gradebook.db'}")
    return nbformat.read(tmp_path / "release" / lesson / f"{lesson}.ipynb", as_version=4)


def ran(nb):
    from nbclient import NotebookClient

    nb = copy.deepcopy(nb)
    NotebookClient(nb, kernel_name="python3", timeout=120).execute()
    return nb


def edited(nb, grade_id, source):
    nb = copy.deepcopy(nb)
    next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == grade_id
         ).source = source
    return nb


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    nb = tiny_lesson()
    return nb, release(nb, tmp_path_factory.mktemp("tiny"))


@pytest.mark.grading
def test_a_lesson_that_follows_the_conventions_passes(tiny):
    nb, released = tiny
    assert convention_problems(nb, released, 1) == []
    hidden = next(c for c in released.cells
                  if c.metadata.get("nbgrader", {}).get("grade_id") == "test_double_hidden")
    assert hidden.source == HIDDEN_HEADER  # what the learner's cell shows: a comment only


BREAKS = {
    "hidden cell opens with a docstring": (
        "test_double_hidden", HIDDEN.replace(HIDDEN_HEADER, '"""Hidden tests."""'),
        "a hidden-test cell is the line"),
    "hidden cell runs a statement outside its region": (
        "test_double_hidden", HIDDEN + "\nprint('x')",
        "a hidden-test cell is the line"),
    "public cell without a docstring": (
        "test_double_vector", PUBLIC.split("\n", 1)[1], "opens with a one-line docstring"),
    "written answer without a rubric": (
        "explain_double", ANSWER.split("\n\n**Rubric**")[0], "then a line starting with"),
    "rubric without bullets": (
        "explain_double", ANSWER.replace("- ", ""), "criteria are bullets"),
}


@pytest.mark.grading
@pytest.mark.parametrize("kind", BREAKS)
def test_each_break_of_a_convention_is_found(kind, tiny, tmp_path):
    grade_id, source, message = BREAKS[kind]
    nb = edited(tiny[0], grade_id, source)
    problems = convention_problems(nb, release(nb, tmp_path), 1)
    assert any(message in p and grade_id in p for p in problems), problems


@pytest.mark.grading
def test_points_must_add_up_to_100_with_the_written_answers(tiny):
    nb, released = tiny
    nb = copy.deepcopy(nb)
    nb.cells[-1].metadata.nbgrader["points"] = 10
    assert any("add up to 70" in p for p in convention_problems(nb, released, 1))


@pytest.mark.notebooks
def test_outputs_one_passed_line_per_public_cell_and_nothing_from_hidden_ones(tiny):
    nb, _ = tiny
    assert output_problems(ran(nb)) == []
    loud = ran(edited(nb, "test_double_vector", PUBLIC + '\nprint("and more")'))
    assert [p for p in output_problems(loud) if "test_double_vector" in p]
    silent = ran(edited(nb, "test_double_vector", PUBLIC.rsplit("\n", 1)[0]))
    assert [p for p in output_problems(silent) if "test_double_vector" in p]
    shown = ran(edited(nb, "test_double_hidden", HIDDEN.replace(
        "### END HIDDEN TESTS", "X\n### END HIDDEN TESTS")))  # Out[n] in a hidden cell
    assert [p for p in output_problems(shown) if "test_double_hidden" in p]
