"""`nncourse instructor`: the executed solutions with their outputs, and HTML copies."""

import re

import nbformat
import pytest

from nncourse import cli
from nncourse.course import RELEASE, SOLUTIONS

LESSON = "02_training_a_network"  # with a live figure
DRAWS = re.compile(r"plt\.show\(\)|plotting\.plot_\w+\(")  # a cell that draws a figure


@pytest.mark.notebooks
def test_the_edition_holds_every_output_and_its_html_every_figure(tmp_path, capsys):
    assert cli.main(["instructor", "--lesson", LESSON, "--out", str(tmp_path)]) == 0
    notebook = tmp_path / LESSON / f"{LESSON}.ipynb"
    html = notebook.with_suffix(".html")
    assert capsys.readouterr().out.split() == [str(notebook), str(html)]

    nb = nbformat.read(notebook, as_version=4)
    code = [cell for cell in nb.cells if cell.cell_type == "code"]
    assert all(cell.execution_count for cell in code)  # every cell ran, in order
    assert [c.execution_count for c in code] == list(range(1, len(code) + 1))
    outputs = [o for cell in code for o in cell.outputs]
    assert not [o for o in outputs if o.get("name") == "stderr" or o.output_type == "error"]
    figures = [cell for cell in code
               if any("image/png" in o.get("data", {}) for o in cell.outputs)]
    assert figures and all(cell in figures for cell in code if DRAWS.search(cell.source))
    live = [cell for cell in code if "from nncourse import live" in cell.source]
    assert len(live) == 1 and live[0] in figures  # the live figure, drawn once, static
    page = html.read_text()
    assert page.count('src="data:image/png;base64,') == sum(
        "image/png" in o.get("data", {}) for o in outputs)
    assert "jsdelivr" not in page and "widget-view" not in page  # no widget manager from a CDN


@pytest.mark.parametrize("inside", [RELEASE, RELEASE / "01_loss_and_cost", SOLUTIONS])
def test_the_edition_is_never_written_into_lessons_or_solutions(inside, capsys):
    assert cli.main(["instructor", "--out", str(inside)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("nncourse instructor: error: ") and err.count("\n") == 1
    assert "must not be written there" in err
