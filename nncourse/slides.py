"""Slides for the lecturer: `nncourse slides` writes one reveal.js deck per lesson.

A deck is nbconvert's slides export of the lesson's solution notebook run top to bottom
(`nncourse.executed`), so it shows every figure and printed number the lesson makes. Which cell
goes on which slide is authored in solutions/ as each cell's `slideshow.slide_type`, the
metadata that JupyterLab's property inspector edits and RISE reads for live slides:

    slide      a new slide to the right: the title and every `## ` section
    subslide   a new slide below the current one: a `### ` heading, an exercise's solution
    fragment   appears on the current slide at the next key press
    -          continues the slide above: a code cell and its figure stay together
    skip       never shown: the set-up cell and the test cells (hidden tests above all)
    notes      the lecturer's notes on the section (speaker view: key S); `nncourse
               release` drops them from the learners' lessons

`slide_problems` checks a notebook against these conventions (tests/test_slides.py runs it on
every lesson). A deck never sees a skipped cell: they are removed before the export.

Offline: a deck's folder holds the deck and copies of the reveal.js and MathJax files it loads
by relative URLs, taken from nncourse/web/node_modules (`npm ci` there, from the committed
lock file, installs them: `make slides-assets`), so it opens from file:// with no network.
"""

import re
import shutil
import sys
from pathlib import Path

from nncourse.course import SOLUTIONS, lessons

WEB = Path(__file__).resolve().parent / "web"
NODE_MODULES = WEB / "node_modules"
TEMPLATES = WEB / "templates"
TEMPLATE = "offline_reveal.html.j2"  # nbconvert's reveal template, with local scripts only
# What a deck loads, relative to node_modules/, copied next to it under the same name except
# MathJax's single file (the TeX input and SVG output with every extension: nothing is
# fetched later, and SVG needs no font files)
ASSETS = {
    "reveal.js/dist/reveal.js": "reveal.js/dist/reveal.js",
    "reveal.js/dist/reveal.css": "reveal.js/dist/reveal.css",
    "reveal.js/dist/theme/white.css": "reveal.js/dist/theme/white.css",
    "reveal.js/dist/theme/fonts/source-sans-pro": "reveal.js/dist/theme/fonts/source-sans-pro",
    "reveal.js/plugin/notes/notes.js": "reveal.js/plugin/notes/notes.js",
    "mathjax/es5/tex-svg-full.js": "mathjax/tex-svg-full.js",
}
OUT = Path("build/slides")

# RISE's settings in each lesson's metadata: "white" is a reveal.js theme whose fonts come
# with RISE (its default, "simple", loads Google's); a slide taller than the screen scrolls.
RISE = {"theme": "white", "scroll": True}

SLIDE, SUBSLIDE, FRAGMENT, CONTINUE, SKIP, NOTES = (
    "slide", "subslide", "fragment", "-", "skip", "notes")
SLIDE_TYPES = (SLIDE, SUBSLIDE, FRAGMENT, CONTINUE, SKIP, NOTES)


class MissingAssets(Exception):
    """reveal.js or MathJax is not installed in nncourse/web/node_modules."""


def slide_type(cell):
    """The cell's slideshow.slide_type, or None when it has none."""
    return cell.get("metadata", {}).get("slideshow", {}).get("slide_type")


def is_speaker_notes(cell):
    """Whether the cell holds the lecturer's notes, which learners never get."""
    return slide_type(cell) == NOTES


def layout(nb):
    """The deck's slides as reveal.js numbers them: [(h, v, [cells])] in order, where h counts
    slides (left to right) and v the subslides below slide h (from 0).

    Skipped cells are left out; a notes cell belongs to the subslide it follows. This is what
    nbconvert's slides exporter builds: the first shown cell starts slide 0, a "slide" cell the
    next slide, a "subslide" cell the next subslide; any other cell continues the current one.
    """
    slides, h, v = [], -1, 0
    for cell in nb.cells:
        kind = slide_type(cell) or CONTINUE
        if kind == SKIP or (not slides and kind == NOTES):
            continue
        if not slides or kind == SLIDE:
            h, v = h + 1, 0
            slides.append((h, v, [cell]))
        elif kind == SUBSLIDE:
            v += 1
            slides.append((h, v, [cell]))
        else:
            slides[-1][2].append(cell)
    return slides


def has_math(markdown):
    """Whether a markdown cell holds TeX between $ signs (code spans and blocks aside)."""
    prose = re.sub(r"```.*?```|`[^`\n]*`", "", markdown, flags=re.S)
    return re.search(r"\$\$.+?\$\$|\$[^$\n]+\$", prose, flags=re.S) is not None


def slide_problems(nb):
    """What in a solution notebook breaks the slide conventions (this module's docstring):
    a list of messages, empty when it follows them.

    - every cell says what it is on the slides (a slideshow.slide_type, one of SLIDE_TYPES);
    - the title (`# `) and every section (`## `) start a slide, and a slide starts only there;
    - no test cell (a graded cell that is not a solution) is shown: they are all "skip";
    - each exercise is a "your turn" slide before its solution: the solution cell starts a
      subslide or a fragment, after the exercise's statement (the markdown cell just above
      it, notes aside), which is shown;
    - each slide has one notes cell, on its first subslide, for the lecturer;
    - the notebook's metadata gives RISE the settings RISE (above) for live slides.
    """
    from nncourse.grading.nbgrader import grade_id, is_grade, is_solution

    problems = []
    if nb.metadata.get("rise") != RISE:
        problems.append(f"the notebook's metadata sets RISE's theme and scrolling: rise = {RISE}, "
                        f"not {nb.metadata.get('rise')}")
    for index, cell in enumerate(nb.cells):
        kind, name = slide_type(cell), _name(cell, index)
        heading = cell.cell_type == "markdown" and re.match(r"#{1,2} ", cell.source)
        if kind not in SLIDE_TYPES:
            problems.append(f"{name}: slide_type {kind!r}, expected one of {SLIDE_TYPES}")
        elif heading and kind != SLIDE:
            problems.append(f"{name}: a `#` or `##` heading starts a slide, not {kind!r}")
        elif kind == SLIDE and not heading:
            problems.append(f"{name}: a slide starts at a `#` or `##` heading")
        if is_grade(cell) and not is_solution(cell) and kind != SKIP:
            problems.append(f"{grade_id(cell)}: a test cell is never shown (skip), not {kind!r}")
        if kind == NOTES and (cell.cell_type != "markdown" or not cell.source.strip()):
            problems.append(f"{name}: a notes cell is a markdown cell with the notes")
        if is_solution(cell):
            above = [c for c in nb.cells[:index] if slide_type(c) != NOTES]
            if kind not in (SUBSLIDE, FRAGMENT):
                problems.append(f"{grade_id(cell)}: a solution starts a subslide or a fragment "
                                f"after its exercise's statement, not {kind!r}")
            if not above or above[-1].cell_type != "markdown" or slide_type(above[-1]) == SKIP:
                problems.append(f"{grade_id(cell)}: the exercise's statement (the markdown cell "
                                "just above the solution) is shown before it")
    slides = layout(nb)
    for h in sorted({h for h, _, _ in slides}):
        subslides = [cells for i, _, cells in slides if i == h]
        title = subslides[0][0].source.splitlines()[0] if subslides[0][0].source else "?"
        notes = [c for cells in subslides for c in cells if slide_type(c) == NOTES]
        if len(notes) != 1:
            problems.append(f"slide {h} ({title}): one notes cell for the lecturer, "
                            f"found {len(notes)}")
        elif notes[0] not in subslides[0]:
            problems.append(f"slide {h} ({title}): its notes are on its first subslide, where "
                            "the speaker view shows them as the slide opens")
    return problems


def deck_notebook(nb):
    """A copy of the executed notebook nb as a deck shows it: without its skipped cells (the
    hidden tests never reach the HTML), and without live controls' widget views (they need a
    kernel; the figure or text they drew stays)."""
    from nncourse.executed import without_widgets

    nb = without_widgets(nb)
    nb.cells = [c for c in nb.cells if slide_type(c) != SKIP]
    return nb


def missing_assets():
    """The files of ASSETS not installed in node_modules (empty when all are)."""
    return [name for name in ASSETS if not (NODE_MODULES / name).exists()]


def check_assets():
    """Raise MissingAssets, saying how to install them, unless every file of ASSETS is there."""
    missing = missing_assets()
    if not missing:
        return
    how = (f"run `make slides-assets` (npm ci --prefix {WEB})" if shutil.which("npm") else
           "npm is not installed: install Node.js with npm (Debian: apt-get install npm), "
           "then run `make slides-assets`")
    raise MissingAssets(f"reveal.js and MathJax are not installed in {NODE_MODULES} "
                        f"({missing[0]} is missing): {how}")


def write_deck(nb, lesson, folder):
    """Write folder/<lesson>.slides.html from the executed notebook nb, with the reveal.js and
    MathJax files it loads next to it; return the deck's path."""
    from nbconvert import SlidesExporter

    check_assets()
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    for source, target in ASSETS.items():
        (folder / target).parent.mkdir(parents=True, exist_ok=True)
        if (NODE_MODULES / source).is_dir():
            shutil.copytree(NODE_MODULES / source, folder / target, dirs_exist_ok=True)
        else:
            shutil.copyfile(NODE_MODULES / source, folder / target)
    exporter = SlidesExporter(
        extra_template_paths=[str(TEMPLATES)], template_file=TEMPLATE,
        reveal_url_prefix="reveal.js",  # relative: the copy in the deck's folder
        reveal_theme="white",  # its fonts are in the package ("simple" loads Google's)
        reveal_number="c/t", reveal_width="1280", reveal_height="800", exclude_anchor_links=True)
    html, _ = exporter.from_notebook_node(deck_notebook(nb),
                                          resources={"metadata": {"name": lesson}})
    path = folder / f"{lesson}.slides.html"
    path.write_text(html, encoding="utf-8")
    return path


def build(names=None, out=OUT, source=SOLUTIONS):
    """One deck per lesson (default: all), each in out/<lesson>/, from the solution notebook
    run top to bottom; returns the decks' paths. MissingAssets before running anything."""
    from nncourse.executed import execute

    check_assets()
    return [write_deck(execute(lesson, source), lesson, Path(out) / lesson)
            for lesson in names or lessons()]


def add_slides(subparsers):
    parser = subparsers.add_parser(
        "slides", help="build a reveal.js deck per lesson, for teaching (works offline)",
        description="Run each lesson's solution notebook and write it as a reveal.js deck, "
                    "OUT/<lesson>/<lesson>.slides.html, with the reveal.js and MathJax files "
                    "it needs beside it: open it in a browser, no network needed. Keys: "
                    "arrows move, S opens the speaker view with the lecturer's notes, F "
                    "is full screen. The cells' slide metadata in solutions/ lays out the "
                    "slides; in JupyterLab, RISE shows the same slides live.")
    parser.add_argument("--lesson", action="append", dest="lessons", metavar="L",
                        choices=lessons(),
                        help=f"only this lesson (repeatable; default: all): {', '.join(lessons())}")
    parser.add_argument("--out", type=Path, default=OUT,
                        help=f"folder for the decks (default: {OUT})")
    parser.print_usage = lambda file=None: None  # a mistake is one line, not the usage too
    parser.set_defaults(run=run_slides, extra="course")


def run_slides(args):
    from nbclient.exceptions import CellExecutionError

    try:
        check_assets()
        for lesson in args.lessons or lessons():
            try:
                path = build([lesson], args.out)[0]
            except CellExecutionError as error:
                print(f"nncourse slides: error: a cell of solutions/{lesson} failed, no deck "
                      f"written:\n{error}", file=sys.stderr)
                return 1
            print(f"slides: {path} (open it in a browser; S: speaker notes)", flush=True)
    except MissingAssets as error:
        print(f"nncourse slides: error: {error}", file=sys.stderr)
        return 2
    return 0


def _name(cell, index):
    return f"cell {index} ({cell.get('id', '?')})"
