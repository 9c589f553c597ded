"""What a learner sees when a check fails, on real Jupyter kernels: the learner's call and the
message, never a frame of nncourse/check.py (IPython would show the innermost frame even with
`__tracebackhide__`). Once in a notebook run by nbclient, as JupyterLab runs it, and once in
the notebook that nbgrader's own autograde writes, whose tracebacks come from the same kernel.
"""

import re

import pytest

from nncourse.course import SOLUTIONS, exercises, notebook_path

LESSON = "01_loss_and_cost"
ANSI = re.compile(r"\x1b\[[0-9;]*m")


def shown(output):
    """The text of an error output as the learner reads it (colours removed)."""
    return ANSI.sub("", "\n".join(output["traceback"]))


def arrowed(text):
    """The source lines a traceback points at with its arrow (`----> 4 check.compare(...)`)."""
    return [m.group(1).strip() for m in re.finditer(r"^-*> *\d+ (.*)$", text, re.M)]


def errors(cell):
    return [o for o in cell.get("outputs", []) if o["output_type"] == "error"]


def run(cells):
    """The notebook of these code cells, run top to bottom on a python3 kernel."""
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
    NotebookClient(nb, kernel_name="python3", allow_errors=True, timeout=120).execute()
    return nb


@pytest.mark.notebooks
def test_a_failing_check_in_a_kernel_shows_the_learners_line_and_the_message():
    nb = run([
        "import numpy as np\nfrom nncourse import check",
        "def binary_crossentropy(Y, F):\n    return -np.mean(Y * np.log(F))",  # a cost, not a loss
        '"""Checks one idea."""\nY = np.array([1.0, 0.0])\nF = np.array([0.9, 0.2])\n'
        'check.compare(binary_crossentropy, "nnlib.losses.binary_crossentropy", Y, F,\n'
        '              hint="one loss per example")\nprint("Passed: never printed")',
        "def binary_crossentropy(Y, F):\n    raise NotImplementedError()",
        'check.call(binary_crossentropy, np.ones(2), np.ones(2))',
        'check.same("the loss", 1.0, 2.0)',
    ])
    compare, = errors(nb.cells[2])
    text = shown(compare)
    assert compare["ename"] == "AssertionError"
    assert "check.py" not in text and "nncourse" not in text, text
    assert arrowed(text) == ['check.compare(binary_crossentropy, "nnlib.losses.binary_'
                             'crossentropy", Y, F,'], text
    assert "binary_crossentropy(Y, F) is not right: expected shape (2,), got shape ()" in text
    assert "Hint: one loss per example" in text
    assert not [o for o in nb.cells[2].outputs if o["output_type"] == "stream"]
    # an error raised by the learner's own code: their call, then their line, nothing between
    unfinished, = errors(nb.cells[4])
    text = shown(unfinished)
    assert unfinished["ename"] == "NotImplementedError" and "check.py" not in text, text
    assert arrowed(text) == ["check.call(binary_crossentropy, np.ones(2), np.ones(2))",
                             "raise NotImplementedError()"], text
    same, = errors(nb.cells[5])
    assert arrowed(shown(same)) == ['check.same("the loss", 1.0, 2.0)'], shown(same)
    assert "check.py" not in shown(same)


@pytest.mark.grading
def test_a_failing_check_in_the_notebook_nbgrader_autogrades_shows_no_check_frame(tmp_path):
    """Lesson 01 with a wrong binary_crossentropy (a constant), autograded by nbgrader's own
    steps: every failing test cell of that exercise shows a line of the cell and the
    message, and no frame of nncourse/check.py."""
    import nbformat

    from nncourse.course import copy_sources
    from nncourse.grading import nbgrader

    course, db_url = tmp_path / "course", f"sqlite:///{tmp_path / 'gradebook.db'}"
    copy_sources(course, [LESSON])
    nbgrader.generate(course, [LESSON], db_url)
    solution = nbformat.read(notebook_path(SOLUTIONS, LESSON), as_version=4)
    for cell in solution.cells:
        if nbgrader.grade_id(cell) == "binary_crossentropy":
            cell.source = re.sub(r"^( *)### BEGIN SOLUTION\n.*?### END SOLUTION",
                                 r"\1return 123.0  # not the loss", cell.source,
                                 flags=re.S | re.M)
    target = notebook_path(course / "submitted" / "learner", LESSON)
    target.parent.mkdir(parents=True)
    nbformat.write(solution, target)
    assert nbgrader.autograde(course, db_url, LESSON) is None

    graded = nbformat.read(notebook_path(course / "autograded" / "learner", LESSON), 4)
    tests = set(exercises(graded)["binary_crossentropy"])
    failed = {nbgrader.grade_id(c): (c, errors(c)) for c in graded.cells
              if nbgrader.grade_id(c) in tests and errors(c)}
    assert failed, "the wrong answer failed no test"
    for grade_id, (cell, [error]) in failed.items():
        text = shown(error)
        assert "check.py" not in text, f"{grade_id}:\n{text}"
        lines = [line.strip() for line in cell.source.splitlines()]
        assert arrowed(text) and all(line in lines for line in arrowed(text)), (
            f"{grade_id}: the traceback points at lines that are not the cell's:\n{text}")
        assert error["evalue"] and error["evalue"].splitlines()[0] in text
