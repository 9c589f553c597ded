"""The slides in a real browser: each lesson's deck as `nncourse slides` writes it, opened from
its file with every network request refused (and recorded), walked slide by slide through
reveal.js's API; and RISE's live slides of a lesson in JupyterLab, running a cell on its slide.

Each deck is built once (its solution run top to bottom), at the first test that needs it.
"""

import re
import shutil
import time

import jupyter_servers
import nbformat
import pytest
from lab_page import open_notebook, run_all

from nncourse import cli, slides
from nncourse.course import SOLUTIONS, lessons, notebook_path
from nncourse.grading.nbgrader import is_solution

HIDDEN_HEADER = "# Hidden tests: run when the lesson is graded, on fresh random inputs."

# Every slide of the deck, shown one after the other with reveal.js's API: where it is, whether
# it is the one shown and has something to show, its images (loaded?), its formulas as MathJax
# typeset them (and MathJax's error boxes), its speaker notes and its text.
WALK = """() => Reveal.getSlides().map(slide => {
    const {h, v} = Reveal.getIndices(slide);
    Reveal.slide(h, v);
    const box = slide.getBoundingClientRect();
    return {
        h, v,
        shown: slide.classList.contains('present') && box.width > 0 && box.height > 0,
        text: slide.innerText,
        images: [...slide.querySelectorAll('img')].map(i => i.complete && i.naturalWidth > 0),
        formulas: slide.querySelectorAll('mjx-container').length,
        math_errors: slide.querySelectorAll('mjx-merror').length,
        notes: Object.assign(document.createElement('div'),
                             {innerHTML: Reveal.getSlideNotes(slide) || ''}).textContent,
    };
})"""


@pytest.fixture(scope="module")
def deck(tmp_path_factory):
    """deck(lesson) -> the path of the lesson's deck, built by `nncourse slides` at first use."""
    out, built = tmp_path_factory.mktemp("slides"), {}

    def get(lesson):
        if lesson not in built:
            assert cli.main(["slides", "--lesson", lesson, "--out", str(out)]) == 0
            built[lesson] = out / lesson / f"{lesson}.slides.html"
        return built[lesson]

    return get


def offline(context):
    """Refuse every request of the browser context that is not for a file or inline data;
    returns the lists that fill up with (refused URLs, failed requests, errors)."""
    refused, failed, errors = [], [], []

    def route(request_route):
        url = request_route.request.url
        if url.startswith(("file:", "data:")):
            request_route.continue_()
        else:
            refused.append(url)
            request_route.abort()

    context.route("**/*", route)
    context.on("requestfailed", lambda request: failed.append(request.url))
    context.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    context.on("weberror", lambda error: errors.append(str(error.error)))
    return refused, failed, errors


def plain(markdown):
    """A markdown text's words, as the browser shows them (code marks dropped)."""
    return " ".join(markdown.replace("`", "").split())


@pytest.mark.parametrize("lesson", lessons())
def test_a_deck_opens_offline_and_every_slide_renders(deck, page, lesson):
    path = deck(lesson)
    nb = nbformat.read(notebook_path(SOLUTIONS, lesson), as_version=4)
    layout = slides.layout(nb)
    refused, failed, errors = offline(page.context)

    page.goto(path.as_uri())
    page.wait_for_function("() => window.Reveal && Reveal.isReady() && window.MathJax"
                           " && MathJax.startup && MathJax.startup.promise")
    page.evaluate("() => MathJax.startup.promise")  # every formula typeset
    page.evaluate("() => Reveal.configure({transition: 'none'})")
    walked = page.evaluate(WALK)

    assert [(s["h"], s["v"]) for s in walked] == [(h, v) for h, v, _ in layout]
    for (h, v, cells), shown in zip(layout, walked, strict=True):
        where = f"slide {h}.{v}: {shown['text'][:60]!r}"
        assert shown["shown"] and (shown["text"].strip() or shown["images"]), where
        assert all(shown["images"]), where  # every figure loaded
        if any(c.cell_type == "markdown" and slides.has_math(c.source) for c in cells):
            assert shown["formulas"] > 0, where  # typeset, not $...$ left as text
        assert shown["math_errors"] == 0, where
        notes = [c.source for c in cells if slides.slide_type(c) == slides.NOTES]
        assert plain(shown["notes"]) == plain(" ".join(notes)), where
    assert all(s["notes"] for s in walked if s["v"] == 0)  # one per section
    body = page.evaluate("() => document.body.textContent")
    assert HIDDEN_HEADER not in body and "BEGIN HIDDEN TESTS" not in body

    # the first exercise: its statement on a slide of its own, its solution on the next one
    answer = next(i for i, c in enumerate(nb.cells) if is_solution(c))
    statement = next(c for c in reversed(nb.cells[:answer])
                     if slides.slide_type(c) != slides.NOTES)
    turn = next(k for k, (_, _, cells) in enumerate(layout) if statement in cells)
    assert nb.cells[answer] in layout[turn + 1][2]
    first_line = nb.cells[answer].source.splitlines()[0]
    assert first_line not in walked[turn]["text"] and first_line in walked[turn + 1]["text"]
    page.evaluate(f"() => Reveal.slide({layout[turn][0]}, {layout[turn][1]})")
    page.shot("your-turn")

    # the speaker view (key S) shows that slide's notes, in a window of its own
    with page.expect_popup() as opened:
        page.keyboard.press("s")
    speaker = opened.value
    notes = speaker.locator(".speaker-controls-notes .value")
    notes.wait_for()
    speaker.wait_for_function("() => document.querySelector('.speaker-controls-notes .value')"
                              ".textContent.trim().length > 0")
    assert plain(notes.inner_text()) == plain(walked[turn]["notes"])
    speaker.close()

    assert refused == [] and failed == [] and errors == []


# ------------------------------------------------------------------ RISE, live in JupyterLab


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """(root, port) of `nncourse lab` on a copy of solutions/."""
    root = tmp_path_factory.mktemp("rise")
    shutil.copytree(SOLUTIONS, root / "solutions")
    with jupyter_servers.lab(root, tmp_path_factory.mktemp("home")) as (port, _):
        yield root, port
        jupyter_servers.shut_down_kernels(port)


def rise_frame(page, timeout_s=60):
    """The frame of RISE's slides, which the RISE button opens in a panel beside the notebook."""
    deadline = time.monotonic() + timeout_s
    while not any("/rise/" in frame.url for frame in page.frames):
        assert time.monotonic() < deadline, "RISE's slides did not open"
        page.wait_for_timeout(100)
    return next(frame for frame in page.frames if "/rise/" in frame.url)


def test_rise_shows_the_same_slides_and_runs_a_cell_on_its_slide(lab, page):
    """The lecturer runs the lesson (its set-up cell is not on any slide), opens RISE from the
    notebook's toolbar, and runs a code cell on its slide, on the notebook's kernel."""
    root, port = lab
    lesson = "01_loss_and_cost"
    path = f"solutions/{lesson}/{lesson}.ipynb"
    nb = nbformat.read(root / path, as_version=4)
    layout = slides.layout(nb)
    open_notebook(page, port, path, len(nb.cells))
    run_all(page)
    page.locator("[data-jp-item-name='RISE-button']").click()
    rise = rise_frame(page)
    rise.wait_for_selector(".reveal .slides section.present", timeout=60_000)

    ids = rise.evaluate("() => [...document.querySelectorAll('.reveal .slides section')]"
                        ".filter(s => !s.querySelector('section')).map(s => s.id)")
    assert ids == [f"slide-{h}-{v}" for h, v, _ in layout]  # the same slides as the deck
    hidden = rise.evaluate("""() => [...document.querySelectorAll('.jp-Cell')]
        .filter(c => c.offsetParent !== null).map(c => c.textContent)
        .filter(t => t.includes('BEGIN HIDDEN TESTS') || t.includes('"Checks '))""")
    assert hidden == []  # no test cell is shown

    # the first code cell on a slide: nothing was imported on the slides before it
    h, v, cells = next((h, v, cells) for h, v, cells in layout
                       if any(c.cell_type == "code" for c in cells))
    code = next(c for c in cells if c.cell_type == "code")
    slide = rise.locator(f"section#slide-{h}-{v}.present")
    deadline = time.monotonic() + 60
    while not slide.is_visible():  # go to it by its address, as a bookmark does
        assert time.monotonic() < deadline, f"RISE did not show slide {h}-{v}"
        # RISE may not listen to the address yet (it was seen to ignore a first change):
        # through the first slide again, so that each try is a change
        rise.evaluate(f"""() => {{ location.hash = '#/slide-0-0';
                                   setTimeout(() => {{ location.hash = '#/slide-{h}-{v}'; }},
                                              200); }}""")
        rise.wait_for_timeout(2000)
    cell = slide.locator(".jp-CodeCell").first
    assert cell.locator(".jp-InputArea-editor").inner_text().strip().startswith(
        code.source.splitlines()[0])
    before = int(re.fullmatch(r"\[(\d+)\]:", cell.locator(".jp-InputPrompt").inner_text())[1])
    cell.locator(".jp-InputArea-editor").click()
    page.keyboard.press("Shift+Enter")
    rise.wait_for_function(f"""() => {{
        const p = document.querySelector('section#slide-{h}-{v} .jp-CodeCell .jp-InputPrompt');
        return /^\\[\\d+\\]:$/.test(p.textContent) && p.textContent !== '[{before}]:';
    }}""")
    page.shot("ran-on-its-slide")
    after = int(re.fullmatch(r"\[(\d+)\]:", cell.locator(".jp-InputPrompt").inner_text())[1])
    assert after > before  # run again, after Run All, on the same kernel
    [output] = cell.locator(".jp-OutputArea-output").all_inner_texts()
    assert "-log f  (with minus)" in output and "Error" not in output
