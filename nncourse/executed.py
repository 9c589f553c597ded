"""A solution notebook run top to bottom on a fresh kernel, with its outputs: what the
instructor edition (`nncourse instructor`) writes and the slides (`nncourse slides`) show.

The kernel is this Python's ("python3" is the environment the command runs in), started in the
notebook's folder, as JupyterLab starts it; every lesson is seeded, so two runs give the same
numbers and figures.
"""

from nncourse.course import SOLUTIONS, notebook_path

CELL_TIMEOUT_S = 600  # lesson 05 trains two frameworks side by side in one cell
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"  # a live control: needs a kernel


def execute(lesson, source=SOLUTIONS):
    """The lesson's notebook in `source`, executed: an nbformat NotebookNode with outputs.

    Raises nbclient's CellExecutionError (naming the cell and its error) if a cell fails.
    """
    import nbformat
    from nbclient import NotebookClient

    path = notebook_path(source, lesson)
    nb = nbformat.read(path, as_version=4)
    NotebookClient(nb, kernel_name="python3", timeout=CELL_TIMEOUT_S,
                   resources={"metadata": {"path": str(path.parent)}}).execute()
    return nb


def without_widgets(nb):
    """A copy of the executed notebook nb as a static page shows it: without the live
    controls' widget views and saved widget state (they need a kernel, and nbconvert would load
    a widget manager from a CDN for them); the figure and the text they drew stay."""
    import copy

    nb = copy.deepcopy(nb)
    nb.metadata.pop("widgets", None)
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        for output in cell.outputs:
            output.get("data", {}).pop(WIDGET_VIEW, None)
        cell.outputs = [o for o in cell.outputs if o.get("output_type") not in
                        ("display_data", "execute_result") or o.get("data")]
    return nb
