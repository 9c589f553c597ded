"""The slides (`nncourse slides`, nncourse/slides.py): every lesson follows the slide
conventions, the checker finds each break of them, a deck is laid out as `layout` says and
loads nothing from the network, the command builds a lesson's deck from its executed notebook
(figures in, tests and hidden tests out, notes as speaker notes), and no speaker note reaches
a learner. The decks in a real browser, offline: tests/browser/test_slides.py.
"""

import copy
import re
import shutil
from html.parser import HTMLParser

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from nncourse import cli, executed, slides
from nncourse.course import RELEASE, SOLUTIONS, leaks, lessons, notebook_path
from nncourse.grading.nbgrader import is_grade, is_solution

LESSONS = lessons()
HIDDEN_HEADER = "# Hidden tests: run when the lesson is graded, on fresh random inputs."


def solution(lesson):
    return nbformat.read(notebook_path(SOLUTIONS, lesson), as_version=4)


def shown(cell, kind):
    cell.metadata["slideshow"] = {"slide_type": kind}
    return cell


def graded(cell, grade_id, *, grade=False, solution=False, locked=False, points=None):
    cell.metadata["nbgrader"] = {"grade": grade, "solution": solution, "locked": locked,
                                 "grade_id": grade_id, "schema_version": 3,
                                 **({"points": points} if points else {})}
    return cell


def tiny_lesson():
    """A lesson of two sections and an exercise that follows the slide conventions."""
    nb = new_notebook(cells=[
        shown(new_markdown_cell("# Tiny lesson\n\nDoubling, $y = 2x$."), slides.SLIDE),
        shown(new_markdown_cell("Ask what doubling does to zero."), slides.NOTES),
        shown(graded(new_code_cell("import numpy as np"), "setup", locked=True), slides.SKIP),
        shown(new_markdown_cell("## Exercise 1: double\n\nWrite `double(X)`."), slides.SLIDE),
        shown(new_markdown_cell("Give it two minutes."), slides.NOTES),
        shown(graded(new_code_cell("def double(X):\n    ### BEGIN SOLUTION\n    return 2 * X\n"
                                   "    ### END SOLUTION"), "double", solution=True),
              slides.SUBSLIDE),
        shown(graded(new_code_cell('"""Checks double."""\nassert double(1) == 2'),
                     "test_double", grade=True, locked=True, points=1), slides.SKIP),
        shown(graded(new_code_cell(f"{HIDDEN_HEADER}\n### BEGIN HIDDEN TESTS\n"
                                   "assert double(3) == 6\n### END HIDDEN TESTS"),
                     "test_double_hidden", grade=True, locked=True, points=1), slides.SKIP),
        shown(new_markdown_cell("### Doubled, drawn"), slides.SUBSLIDE),
        shown(new_code_cell("print(double(np.arange(3)))"), slides.CONTINUE),
        shown(new_markdown_cell("The line is twice as steep."), slides.FRAGMENT),
        shown(new_markdown_cell("## Summary\n\nDoubling is linear."), slides.SLIDE),
        shown(new_markdown_cell("Ask for another linear map."), slides.NOTES),
    ], metadata={"rise": {"theme": "white", "scroll": True}})
    return nbformat.from_dict(nb)


def cell_of(nb, text):
    return next(c for c in nb.cells if text in c.source)


# ------------------------------------------------------------------ the conventions


@pytest.mark.parametrize("lesson", LESSONS)
def test_lesson_follows_the_slide_conventions(lesson):
    problems = slides.slide_problems(solution(lesson))
    assert not problems, "\n".join(problems)


def test_a_lesson_that_follows_the_conventions_has_no_problem():
    assert slides.slide_problems(tiny_lesson()) == []


BREAKS = {  # what is changed in the tiny lesson, and what the problem says
    "a test cell is shown": (
        "assert double(1)", slides.CONTINUE, "test_double: a test cell is never shown"),
    "a hidden test is shown": (
        "BEGIN HIDDEN TESTS", slides.FRAGMENT, "test_double_hidden: a test cell is never shown"),
    "the solution is on its statement's slide": (
        "return 2 * X", slides.CONTINUE, "double: a solution starts a subslide or a fragment"),
    "the statement is hidden": (
        "Write `double(X)`", slides.SKIP, "double: the exercise's statement"),
    "a section is not a slide": (
        "## Summary", slides.SUBSLIDE, "a `#` or `##` heading starts a slide"),
    "a slide without a heading": (
        "The line is twice", slides.SLIDE, "a slide starts at a `#` or `##` heading"),
    "a cell says nothing": ("print(double", None, "slide_type None"),
    "an unknown slide type": ("print(double", "sub-slide", "slide_type 'sub-slide'"),
    "a section without notes": (
        "Ask for another", slides.CONTINUE, "(## Summary): one notes cell for the lecturer"),
}


@pytest.mark.parametrize("kind", BREAKS)
def test_each_break_of_a_convention_is_found(kind):
    text, slide_type, message = BREAKS[kind]
    nb = tiny_lesson()
    cell = cell_of(nb, text)
    if slide_type is None:
        del cell.metadata["slideshow"]
    else:
        cell.metadata.slideshow.slide_type = slide_type
    problems = slides.slide_problems(nb)
    assert any(message in p for p in problems), problems


def test_a_lesson_without_rise_settings_is_found():
    nb = tiny_lesson()
    del nb.metadata["rise"]
    assert [p for p in slides.slide_problems(nb) if "sets RISE's theme" in p]


def test_notes_below_the_first_subslide_of_their_slide_are_found():
    nb = tiny_lesson()
    notes = cell_of(nb, "Give it two minutes.")
    nb.cells.remove(notes)
    nb.cells.insert(nb.cells.index(cell_of(nb, "return 2 * X")) + 1, notes)
    assert [p for p in slides.slide_problems(nb) if "(## Exercise 1: double)" in p
            and "its notes are on its first subslide" in p]


# ------------------------------------------------------------------ a deck, without a kernel


class Sections(HTMLParser):
    """The (h, v) of every subslide of a reveal.js deck, from its nested <section>s; the text
    of its <aside class="notes">; the URLs that its tags load (src, and href of <link>)."""

    def __init__(self, html):
        super().__init__()
        self.depth, self.h, self.v, self.slides, self.urls, self.notes = 0, -1, -1, [], [], []
        self.in_notes = False
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "section":
            self.depth += 1
            if self.depth == 1:
                self.h, self.v = self.h + 1, -1
            else:
                self.v += 1
                self.slides.append((self.h, self.v))
        elif tag == "aside" and attrs.get("class") == "notes":
            self.in_notes = True
            self.notes.append("")
        if attrs.get("src") or (tag == "link" and attrs.get("href")):
            self.urls.append(attrs.get("src") or attrs["href"])

    def handle_endtag(self, tag):
        if tag == "section":
            self.depth -= 1
        elif tag == "aside":
            self.in_notes = False

    def handle_data(self, data):
        if self.in_notes:
            self.notes[-1] += data


def offline(folder, url):
    """Whether a URL that a deck loads works offline: inline data, or a file of the deck's
    folder by a relative path (no scheme, no host, no absolute path)."""
    if url.startswith("data:"):
        return True
    return not re.match(r"[a-z]+:|//|/", url) and (folder / url).is_file()


def test_a_deck_is_laid_out_as_layout_says_and_loads_only_its_own_files(tmp_path):
    nb = tiny_lesson()
    path = slides.write_deck(nb, "tiny", tmp_path / "tiny")
    html = path.read_text()
    deck = Sections(html)

    assert deck.slides == [(h, v) for h, v, _ in slides.layout(nb)]
    assert deck.slides == [(0, 0), (1, 0), (1, 1), (1, 2), (2, 0)]  # the exercise's subslides
    assert [n.strip() for n in deck.notes] == [
        "Ask what doubling does to zero.", "Give it two minutes.", "Ask for another linear map."]
    assert "assert double" not in html and "HIDDEN" not in html  # skipped cells are left out
    assert deck.urls and all(offline(path.parent, url) for url in deck.urls), deck.urls
    assert {"reveal.js/dist/reveal.js", "mathjax/tex-svg-full.js"} <= set(deck.urls)
    for css in path.parent.rglob("*.css"):  # what the style sheets load (the theme's fonts)
        text = css.read_text()
        for url in re.findall(r"""url\(\s*["']?([^"')]+)|@import\s+["']([^"']+)""", text):
            url = "".join(url).split("?")[0].split("#")[0]
            assert offline(css.parent, url), (css, url)


def test_a_deck_leaves_out_live_controls_and_keeps_what_they_drew(tmp_path):
    """A widget needs a kernel: the deck shows the static figure (or text) the cell drew."""
    nb = tiny_lesson()
    code = cell_of(nb, "print(double")
    code.outputs = [new_output("display_data", data={
        executed.WIDGET_VIEW: {"model_id": "0123", "version_major": 2, "version_minor": 0},
        "text/plain": "interactive(children=(FloatSlider(value=0.1),))"}),
        new_output("display_data", data={"image/png": "iVBORw0KGgo="})]
    nb.metadata["widgets"] = {"application/vnd.jupyter.widget-state+json": {"state": {}}}

    deck = slides.deck_notebook(nb)
    assert "widgets" not in deck.metadata and "widgets" in nb.metadata  # nb is not changed
    [text, image] = cell_of(deck, "print(double").outputs
    assert set(text.data) == {"text/plain"} and set(image.data) == {"image/png"}
    html = slides.write_deck(nb, "tiny", tmp_path).read_text()
    assert "widget-view" not in html and "unpkg" not in html and "iVBORw0KGgo=" in html


# ------------------------------------------------------------------ the command


@pytest.mark.notebooks
def test_the_command_builds_a_lesson_deck_from_the_executed_solution(tmp_path, capsys):
    lesson = "01_loss_and_cost"
    assert cli.main(["slides", "--lesson", lesson, "--out", str(tmp_path)]) == 0
    path = tmp_path / lesson / f"{lesson}.slides.html"
    assert capsys.readouterr().out.startswith(f"slides: {path}")
    html = path.read_text()
    deck, nb = Sections(html), solution(lesson)

    assert deck.slides == [(h, v) for h, v, _ in slides.layout(nb)]
    notes = [c.source for c in nb.cells if slides.slide_type(c) == slides.NOTES]
    assert [" ".join(n.split()) for n in deck.notes] == [
        " ".join(n.replace("`", "").split()) for n in notes]  # the markdown, rendered
    figures = [c for c in nb.cells if slides.slide_type(c) != slides.SKIP
               and "plt.show()" in c.source]
    assert html.count('src="data:image/png;base64,') == len(figures) > 0  # it was run
    tests = [c for c in nb.cells if is_grade(c) and not is_solution(c)]
    assert tests and not [c.source.splitlines()[0] for c in tests
                          if c.source.splitlines()[0] in html]  # no test, no hidden test
    assert HIDDEN_HEADER not in html and "BEGIN HIDDEN TESTS" not in html
    assert all(offline(path.parent, url) for url in deck.urls), deck.urls


def test_an_unknown_lesson_is_one_line_and_status_2(tmp_path, capsys):
    with pytest.raises(SystemExit) as stopped:
        cli.main(["slides", "--lesson", "06_bogus", "--out", str(tmp_path)])
    assert stopped.value.code == 2
    [line] = capsys.readouterr().err.splitlines()
    assert line.startswith("nncourse slides: error: argument --lesson: invalid choice: "
                           "'06_bogus' (choose from '01_loss_and_cost'")
    assert not any(tmp_path.iterdir())


@pytest.mark.parametrize("npm", [True, False], ids=["npm", "no-npm"])
def test_missing_offline_files_are_one_line_and_status_2(npm, tmp_path, capsys, monkeypatch):
    """Without reveal.js and MathJax installed, nothing runs and nothing is written; the line
    says how to install them, and that npm is missing when it is."""
    monkeypatch.setattr(slides, "NODE_MODULES", tmp_path / "node_modules")
    if not npm:
        monkeypatch.setenv("PATH", str(tmp_path))  # no npm on it
    out = tmp_path / "decks"
    assert cli.main(["slides", "--lesson", "01_loss_and_cost", "--out", str(out)]) == 2
    [line] = capsys.readouterr().err.splitlines()
    assert line.startswith("nncourse slides: error: reveal.js and MathJax are not installed in "
                           f"{tmp_path / 'node_modules'}")
    assert "make slides-assets" in line
    assert ("npm is not installed" in line) is (not npm)
    assert not out.exists()


# ------------------------------------------------------------------ no notes for learners


@pytest.mark.parametrize("lesson", LESSONS)
def test_released_lessons_have_no_speaker_notes(lesson):
    nb = nbformat.read(notebook_path(RELEASE, lesson), as_version=4)
    assert not [c.source[:60] for c in nb.cells if slides.slide_type(c) == slides.NOTES]


@pytest.mark.grading
def test_release_drops_the_speaker_notes_and_keeps_every_other_cell(tmp_path, capsys):
    lesson = "01_loss_and_cost"
    source = solution(lesson)
    notes = [c.id for c in source.cells if slides.slide_type(c) == slides.NOTES]
    assert notes and leaks(source) == ["BEGIN HIDDEN TESTS", "BEGIN SOLUTION",
                                       "END HIDDEN TESTS", "END SOLUTION", "speaker notes"]

    assert cli.main(["release", "--lesson", lesson, "--out", str(tmp_path)]) == 0
    released = nbformat.read(notebook_path(tmp_path, lesson), as_version=4)
    assert [c.id for c in released.cells] == [c.id for c in source.cells if c.id not in notes]
    assert leaks(released) == []


@pytest.mark.grading
def test_a_graded_learner_gets_no_speaker_notes_in_the_feedback(tmp_path):
    """Grading rebuilds each submission from the release it makes of solutions/ (the notes
    are there): the autograded notebook and its feedback report hold none of them."""
    lesson = "01_loss_and_cost"
    submitted = notebook_path(tmp_path / "class" / "ada", lesson)
    submitted.parent.mkdir(parents=True)
    shutil.copy(notebook_path(RELEASE, lesson), submitted)  # handed in untouched
    assert cli.main(["grade", str(tmp_path / "class"), "--lesson", lesson,
                     "--out", str(tmp_path / "out"), "--jobs", "1"]) == 0

    notes = [" ".join(c.source.split()[:8]) for c in solution(lesson).cells
             if slides.slide_type(c) == slides.NOTES]
    graded = notebook_path(tmp_path / "out" / "course" / "autograded" / "ada", lesson)
    report = notebook_path(tmp_path / "out" / "course" / "feedback" / "ada", lesson)
    for path in (graded, report.with_suffix(".html")):
        text = " ".join(path.read_text().replace("`", "").split())
        assert notes and not [n for n in notes if n.replace("`", "") in text], path


def test_a_notes_cell_left_in_a_notebook_is_a_leak():
    nb = copy.deepcopy(tiny_lesson())
    assert "speaker notes" in leaks(nb)
    nb.cells = [c for c in nb.cells if slides.slide_type(c) != slides.NOTES]
    assert "speaker notes" not in leaks(nb)
