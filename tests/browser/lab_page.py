"""A learner's steps in JupyterLab as Playwright actions, and what the page then shows.

Text is read with `textContent`: JupyterLab skips rendering the cells outside the window, and
their `innerText` is empty. Cells are found by their position, which is the notebook file's.
"""

import time

import nbformat
from jupyter_servers import TOKEN

KERNEL_READY = "Python 3 (ipykernel) | Idle"  # the kernel's name: idle *and* attached


def open_notebook(page, port, path, cells):
    """Open the notebook at `path` (under the server's root) in a workspace of its own, so that
    no tab of another test is restored; wait for its `cells` cells and its kernel."""
    workspace = path.replace("/", "-").removesuffix(".ipynb")
    page.goto(f"http://127.0.0.1:{port}/lab/workspaces/{workspace}/tree/{path}"
              f"?reset&token={TOKEN}")
    page.wait_for_function(
        f"document.querySelectorAll('.jp-Notebook .jp-Cell').length >= {cells}",
        timeout=60_000)
    page.get_by_text(KERNEL_READY).wait_for(timeout=60_000)


def menu(page, menu_name, item):
    """Click the menu bar's `menu_name`, then its item `item`."""
    page.locator(".lm-MenuBar-itemLabel", has_text=menu_name).first.click()
    page.locator(".lm-Menu-item", has_text=item).first.click()


def wait_until_run(page, timeout=240):
    """Wait until no cell is queued or running and the kernel is idle, twice in a row."""
    deadline = time.monotonic() + timeout
    settled = 0
    time.sleep(0.5)  # the run has started: its cells show [*]
    while settled < 2:
        assert time.monotonic() < deadline, "the cells were still running"
        busy = page.evaluate("""() => [...document.querySelectorAll('.jp-InputPrompt')]
                                       .some(p => p.textContent.includes('*'))""")
        idle = page.get_by_text(KERNEL_READY).count() > 0
        settled = settled + 1 if idle and not busy else 0
        time.sleep(0.5)


def run_all(page):
    menu(page, "Run", "Run All Cells")
    wait_until_run(page)


def cells(page):
    """What each cell shows: its prompt ("[3]:", "[ ]:", "" for markdown), its outputs as
    (MIME type, text), how many are results (an `Out[n]`), its images and typeset formulas."""
    return page.evaluate("""() => [...document.querySelectorAll('.jp-Notebook .jp-Cell')]
        .map(cell => ({
            prompt: (cell.querySelector('.jp-InputPrompt') || {}).textContent || '',
            outputs: [...cell.querySelectorAll('.jp-OutputArea-output')]
                .map(o => [o.dataset.mimeType || '', o.textContent]),
            results: cell.querySelectorAll('.jp-OutputArea-executeResult').length,
            images: cell.querySelectorAll('.jp-OutputArea img').length,
            formulas: cell.querySelectorAll('mjx-container').length,
        }))""")


def red(cell):
    """The cell's outputs that JupyterLab shows in red: errors and anything on stderr."""
    return [text for mime, text in cell["outputs"] if mime == "application/vnd.jupyter.stderr"]


def type_answer(page, cell, lines):
    """Type `lines` in place of the line `raise NotImplementedError()` of cell number `cell`,
    key by key, as a learner does (the editor indents each new line and closes brackets)."""
    page.locator(".jp-Notebook .jp-Cell").nth(cell).locator(
        ".cm-line", has_text="raise NotImplementedError()").click()
    page.keyboard.press("End")
    page.keyboard.press("Shift+Home")  # to the indentation: the line's code is selected
    for number, line in enumerate(lines):
        if number:
            page.keyboard.press("Enter")
        page.keyboard.type(line)


def run_cells(page, count):
    """Shift+Enter `count` times: run the selected cell and the ones after it, one by one."""
    for _ in range(count):
        page.keyboard.press("Shift+Enter")
    wait_until_run(page)


def save(page, file):
    """File > Save Notebook; returns the notebook as saved in `file`, with its outputs."""
    before = file.stat().st_mtime_ns
    menu(page, "File", "Save Notebook")
    deadline = time.monotonic() + 30
    while file.stat().st_mtime_ns == before:
        assert time.monotonic() < deadline, f"{file} was not saved"
        time.sleep(0.2)
    time.sleep(0.5)  # written whole
    return nbformat.read(file, as_version=4)


def move_control(page, cell, control):
    """Move one ipywidgets control in `cell` as a person does: ("slider", its description,
    key, the readout expected after) is clicked on its handle and sent the key; ("button",
    label) is clicked."""
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
