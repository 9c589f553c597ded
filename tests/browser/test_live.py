"""The live controls in JupyterLab, in a real browser, as a lecturer uses them in class.

`nncourse lab` serves a copy of the solutions. Each lesson with a live figure is opened once
and run (Run All); then each of its controls is moved as a person moves it: a slider by a
click on its handle and the arrow key, a button by a click. After each move the figure above
the controls must change (its image is replaced by the retrained network's), the controls must
be ipywidgets' own (not a "Loading widget..." placeholder or the plain-text stand-in), and no
cell may show red output.
"""

import shutil

import jupyter_servers
import nbformat
import pytest
from lab_page import cells, open_notebook, red, run_all

ROOT = jupyter_servers.ROOT

# Each lesson's moves, in order: ("slider", its description, the key pressed on its handle,
# the readout expected after) or ("button", its label).
MOVES = {
    "02_training_a_network": [("slider", "learning rate", "ArrowRight", "3")],
    "03_activation_functions": [("button", "relu"), ("button", "sigmoid")],
    "04_why_nonlinearity": [("slider", "hidden units", "ArrowRight", "3"), ("button", "linear")],
}


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """(root, port) of `nncourse lab` on a copy of the solutions."""
    root = tmp_path_factory.mktemp("live")
    shutil.copytree(ROOT / "solutions", root / "solutions")
    with jupyter_servers.lab(root, tmp_path_factory.mktemp("home")) as (port, _):
        yield root, port


@pytest.fixture(autouse=True)
def no_kernel_left(lab):
    """Each test's kernel is shut down after it (it outlives the browser tab)."""
    yield
    jupyter_servers.shut_down_kernels(lab[1])


def live_cell(nb):
    """The number of the notebook's cell that shows a live figure."""
    found = [i for i, c in enumerate(nb.cells)
             if c.cell_type == "code" and "from nncourse import live" in c.source]
    assert len(found) == 1, found
    return found[0]


def move(cell, page, control):
    """Move one control of the live cell as a person does."""
    if control[0] == "slider":
        _, description, key, expected = control
        slider = cell.locator(".widget-slider", has_text=description)
        before = slider.locator(".widget-readout").text_content()
        slider.locator(".noUi-handle").click()
        page.keyboard.press(key)
        assert slider.locator(".widget-readout").text_content() == expected, before
    else:
        button = cell.get_by_role("button", name=control[1], exact=True)
        button.click()
        assert "mod-active" in button.get_attribute("class")


@pytest.mark.parametrize("lesson", list(MOVES))
def test_moving_a_live_control_redraws_its_figure(lab, page, lesson):
    from playwright.sync_api import expect

    root, port = lab
    path = f"solutions/{lesson}/{lesson}.ipynb"
    nb = nbformat.read(root / path, as_version=4)
    open_notebook(page, port, path, len(nb.cells))
    run_all(page)
    cell = page.locator(".jp-Notebook .jp-Cell").nth(live_cell(nb))
    cell.scroll_into_view_if_needed()
    figure = cell.locator(".jp-OutputArea-output img")
    expect(cell.locator(".widget-hbox")).to_be_visible()  # the controls, rendered
    assert "Loading widget" not in cell.text_content()
    assert "Live controls:" not in cell.text_content()  # not the stand-in for no front end
    assert figure.count() == 1
    page.shot("before")

    for number, control in enumerate(MOVES[lesson], start=1):
        src = figure.get_attribute("src")
        move(cell, page, control)
        expect(figure).not_to_have_attribute("src", src, timeout=30_000)  # the new figure
        assert figure.count() == 1  # replaced in place, not added
        cell.scroll_into_view_if_needed()
        page.shot(f"after-{number}-{control[1].replace(' ', '-')}")

    assert {i: red(c) for i, c in enumerate(cells(page)) if red(c)} == {}
