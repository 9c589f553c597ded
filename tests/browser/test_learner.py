"""A learner's JupyterLab, in a real browser: `nncourse lab`, as the README starts it.

The lessons run as a learner runs them (Run All, Shift+Enter, typing into a cell), on the
server's real kernels; what is checked is what the page shows. The solutions' live figures
are moved as a lecturer moves them in class: a slider by a click on its handle and an arrow
key, a button by a click; each move must replace the figure, in place.
"""

import re
import shutil

import jupyter_servers
import nbformat
import pytest
from lab_page import (
    cells,
    menu,
    move_control,
    open_notebook,
    red,
    run_all,
    run_cells,
    save,
    type_answer,
    wait_until_run,
)

from nncourse.course import lessons

ROOT = jupyter_servers.ROOT
EXERCISE = "raise NotImplementedError()"


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """(root, port, the server's output) of `nncourse lab` on a copy of the lessons, the
    solutions and the sample class's complete student, ada."""
    root = tmp_path_factory.mktemp("learner")
    for folder, copy in (("lessons", "lessons"), ("solutions", "solutions"),
                         ("examples/class/ada", "ada")):
        shutil.copytree(ROOT / folder, root / copy)
    with jupyter_servers.lab(root, tmp_path_factory.mktemp("home")) as (port, output):
        yield root, port, output


@pytest.fixture(autouse=True)
def no_kernel_left(lab):
    """Each test's kernels are shut down after it (they outlive the browser tab)."""
    yield
    jupyter_servers.shut_down_kernels(lab[1])


def notebook(root, path):
    return nbformat.read(root / path, as_version=4)


def open_and_run_all(lab, page, path):
    """Open the notebook at `path` and Run All; returns (the file's notebook, what its cells
    show)."""
    root, port, _ = lab
    nb = notebook(root, path)
    open_notebook(page, port, path, len(nb.cells))
    run_all(page)
    return nb, cells(page)


def test_the_readme_starts_the_lab_this_way():
    assert "`.venv/bin/nncourse lab`" in (ROOT / "README.md").read_text()


@pytest.mark.parametrize("lesson", lessons())
def test_a_released_lesson_runs_until_its_first_exercise(lab, page, lesson):
    root, port, _ = lab
    path = f"lessons/{lesson}/{lesson}.ipynb"
    nb = notebook(root, path)
    exercise = next(i for i, c in enumerate(nb.cells)
                    if c.cell_type == "code" and EXERCISE in c.source)
    # an exercise inside a function raises when its test cell calls it
    inside = re.search(rf"^\s+{re.escape(EXERCISE)}", nb.cells[exercise].source, re.M)
    stop = exercise if not inside else next(
        i for i in range(exercise + 1, len(nb.cells)) if nb.cells[i].cell_type == "code")

    open_notebook(page, port, path, len(nb.cells))
    page.shot("opened")
    run_all(page)
    page.locator(".jp-Notebook .jp-Cell").nth(stop).scroll_into_view_if_needed()
    page.shot("stopped")

    shown = cells(page)
    errors = {i: red(cell) for i, cell in enumerate(shown) if red(cell)}
    assert list(errors) == [stop], errors
    assert "NotImplementedError" in errors[stop][0]
    code = [i for i, cell in enumerate(nb.cells) if cell.cell_type == "code"]
    assert all(re.fullmatch(r"\[\d+\]:", shown[i]["prompt"]) for i in code if i <= stop)
    assert all(shown[i]["prompt"] == "[ ]:" for i in code if i > stop)  # Run All stopped


DRAWS = re.compile(r"plt\.show\(\)|plotting\.plot_\w+\(")  # a cell that draws a figure
# The moves of each lesson's live figure, in order: ("slider", its description, the key pressed
# on its handle, the readout expected after) or ("button", its label).
LIVE_MOVES = {
    "02_training_a_network": [("slider", "learning rate", "ArrowRight", "3")],
    "03_activation_functions": [("button", "relu"), ("button", "sigmoid")],
    "04_why_nonlinearity": [("slider", "hidden units", "ArrowRight", "3"), ("button", "linear")],
}


@pytest.mark.parametrize("lesson", lessons())
def test_a_solution_runs_every_cell_shows_its_figures_and_moves_live(lab, page, lesson):
    from playwright.sync_api import expect

    root, _, _ = lab
    path = f"solutions/{lesson}/{lesson}.ipynb"
    nb, shown = open_and_run_all(lab, page, path)
    figure = next(i for i, cell in enumerate(nb.cells) if DRAWS.search(cell.source))
    page.locator(".jp-Notebook .jp-Cell").nth(figure).scroll_into_view_if_needed()
    page.shot("first-figure")
    saved = save(page, root / path)

    assert {i: red(cell) for i, cell in enumerate(shown) if red(cell)} == {}
    for i, cell in enumerate(saved.cells):
        if cell.cell_type == "code":
            assert re.fullmatch(r"\[\d+\]:", shown[i]["prompt"]), (i, shown[i]["prompt"])
            figures = sum("image/png" in output.get("data", {}) for output in cell.outputs)
            assert shown[i]["images"] == figures, (i, cell.source)  # each one on the page
            assert figures >= bool(DRAWS.search(cell.source)), (i, cell.source)
        elif "$" in cell.source:
            assert shown[i]["formulas"] > 0, (i, cell.source)  # typeset by MathJax

    # the live figure, moved as a lecturer moves its controls in class (nncourse.live)
    live = [i for i, c in enumerate(nb.cells)
            if c.cell_type == "code" and "from nncourse import live" in c.source]
    assert len(live) == (lesson in LIVE_MOVES), live
    if live:
        cell = page.locator(".jp-Notebook .jp-Cell").nth(live[0])
        cell.scroll_into_view_if_needed()
        figure = cell.locator(".jp-OutputArea-output img")
        expect(cell.locator(".widget-hbox")).to_be_visible()  # the controls, rendered
        assert "Loading widget" not in cell.text_content()
        assert "Live controls:" not in cell.text_content()  # not the stand-in for no front end
        assert figure.count() == 1
        page.shot("live-before")
        for number, control in enumerate(LIVE_MOVES[lesson], start=1):
            src = figure.get_attribute("src")
            move_control(page, cell, control)
            expect(figure).not_to_have_attribute("src", src, timeout=30_000)  # the new figure
            assert figure.count() == 1  # replaced in place, not added
            page.shot(f"live-after-{number}-{control[1].replace(' ', '-')}")
        assert {i: red(c) for i, c in enumerate(cells(page)) if red(c)} == {}


# Exercise 1 of lesson 1 in the released notebook: its cell, and its test cells after it
LESSON = "01_loss_and_cost"
BCE, TESTS = 12, range(13, 20)
ANSWER = ["f = np.clip(f, EPSILON, 1 - EPSILON)",
          "return -np.mean(y * np.log(f) + (1 - y) * np.log(1 - f), axis=-1)"]
# the course notes' loss, without its minus sign
NOTES_ANSWER = [ANSWER[0], ANSWER[1].removeprefix("return -").join(["return ", ""])]


def open_at_exercise(lab, page, name):
    """A fresh copy of the released lesson 1 at `name`.ipynb (its cell numbers checked), opened
    at exercise 1 with the cells above it run, as a learner who starts on it does (select the
    exercise, Run > Run All Above Selected Cell). Returns the notebook."""
    root, port, _ = lab
    path = f"lessons/{LESSON}/{name}.ipynb"
    shutil.copy(root / "lessons" / LESSON / f"{LESSON}.ipynb", root / path)
    nb = notebook(root, path)
    assert "def binary_crossentropy" in nb.cells[BCE].source
    graded = [nb.cells[i].metadata["nbgrader"]["grade_id"] for i in TESTS]
    assert graded[0] == "test_bce_values" and all(g.startswith("test_bce") for g in graded)
    open_notebook(page, port, path, len(nb.cells))
    page.locator(".jp-Notebook .jp-Cell").nth(BCE).locator(".jp-InputPrompt").click()
    menu(page, "Run", "Run All Above Selected Cell")
    wait_until_run(page)
    return nb


def test_a_right_answer_typed_in_the_cell_passes_its_public_tests(lab, page):
    nb = open_at_exercise(lab, page, "typed_right")
    type_answer(page, BCE, ANSWER)
    page.shot("typed")
    run_cells(page, 1 + len(TESTS))
    page.locator(".jp-Notebook .jp-Cell").nth(TESTS[-1]).scroll_into_view_if_needed()
    page.shot("passed")

    shown = cells(page)
    for i in TESTS:
        hidden = nb.cells[i].source.startswith("# Hidden tests")
        assert re.fullmatch(r"\[\d+\]:", shown[i]["prompt"]), i
        if hidden:  # shows nothing before grading, no Out[n] line either
            assert shown[i]["outputs"] == [], shown[i]
        else:
            [(mime, text)] = shown[i]["outputs"]
            assert mime == "application/vnd.jupyter.stdout" and text.startswith("Passed: "), text


def test_a_wrong_answer_typed_in_the_cell_shows_what_is_wrong(lab, page):
    open_at_exercise(lab, page, "typed_wrong")
    type_answer(page, BCE, NOTES_ANSWER)
    run_cells(page, 2)
    page.locator(".jp-Notebook .jp-Cell").nth(TESTS[0]).scroll_into_view_if_needed()
    page.shot("failed")

    [message] = red(cells(page)[TESTS[0]])
    assert "binary_crossentropy(y, f) is not right" in message
    assert "expected 2.302585, got -2.302585" in message  # the sign: the largest difference
    assert "Passed" not in message and "check.py" not in message  # no helper's frames


def test_a_filled_lesson_passes_every_public_test_and_validates(lab, page):
    nb, shown = open_and_run_all(lab, page, f"ada/{LESSON}/{LESSON}.ipynb")
    assert {i: red(cell) for i, cell in enumerate(shown) if red(cell)} == {}
    for i, cell in enumerate(nb.cells):
        if cell.metadata.get("nbgrader", {}).get("grade") and cell.cell_type == "code":
            if cell.source.startswith("# Hidden tests"):
                assert shown[i]["outputs"] == [], shown[i]
            else:
                assert [text.split(":")[0] for _, text in shown[i]["outputs"]] == ["Passed"], i
    assert sum(cell["results"] for cell in shown) == sum(
        "Out[" in str(c.get("outputs")) for c in nb.cells)  # none: the file has no outputs

    page.get_by_role("button", name="Validate").click()
    dialog = page.locator(".jp-Dialog")
    dialog.get_by_text("Success!").wait_for(timeout=120_000)
    page.shot("validated")


def test_validate_says_so_when_a_lesson_is_not_done(lab, page):
    root, port, _ = lab
    path = f"lessons/{LESSON}/{LESSON}.ipynb"
    open_notebook(page, port, path, len(notebook(root, path).cells))
    page.get_by_role("button", name="Validate").click()
    dialog = page.locator(".jp-Dialog")
    dialog.get_by_text("NotImplementedError").first.wait_for(timeout=120_000)
    assert dialog.get_by_text("Success!").count() == 0
    page.shot("not-validated")


def test_a_learner_sees_no_news_question_no_exchange_error_and_no_instructor_tools(lab, page):
    root, port, output = lab
    start = len(output())  # what the server logs from here on: this first open
    path = f"lessons/{LESSON}/{LESSON}.ipynb"
    open_notebook(page, port, path, len(notebook(root, path).cells))
    page.wait_for_timeout(3000)  # JupyterLab asks about news a moment after it has loaded
    page.shot("first-open")
    assert page.locator(".Toastify__toast").all_text_contents() == []
    labels = " ".join(page.locator(".lm-MenuBar-itemLabel").all_text_contents())
    for tool in ("Nbgrader", "Assignment List", "Course List", "Formgrader"):
        assert tool not in labels
    assert page.get_by_role("button", name="Validate").count() == 1
    # (not the earlier tests': closing their tabs can log tornado's WebSocketClosedError)
    log = output()[start:]
    assert "exchange" not in log.lower() and "Traceback" not in log, log
