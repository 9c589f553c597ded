"""`nncourse instructor [--lesson L ...] [--out DIR]`: the instructor edition.

Each solution notebook run top to bottom (nncourse.executed), written with its outputs, figures
and printed numbers, as OUT/<lesson>/<lesson>.ipynb and an HTML copy beside it: to teach from
without running anything, and to give learners after the deadline. It contains the solutions
and the hidden tests, so it is never written into lessons/ or solutions/ (both are committed:
the release a learner gets, and the source that `nncourse release` reads).
"""

import sys
from pathlib import Path

from nncourse.course import RELEASE, ROOT, SOLUTIONS, lessons, notebook_path

OUT = ROOT / "build" / "instructor"


def refused(out):
    """Why `out` cannot hold the instructor edition (a one-line reason), or None."""
    out = Path(out).resolve()
    for folder, what in ((RELEASE, "the learners' lessons"), (SOLUTIONS, "the solutions")):
        if out == folder or folder in out.parents:
            return (f"{out} is inside {folder}, {what}: the instructor edition (solutions and "
                    "hidden tests, with outputs) must not be written there; choose another "
                    "--out, e.g. build/instructor")
    if out.exists() and not out.is_dir():
        return f"{out} is a file; expected a folder for the instructor edition"
    return None


def write(names, out=OUT):
    """Write the edition of each lesson of `names` under `out`; return the files written."""
    import nbformat
    from nbconvert import HTMLExporter

    from nncourse.executed import execute, without_widgets

    written = []
    for lesson in names:
        nb = execute(lesson)
        target = notebook_path(out, lesson)
        target.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(nb, target)
        html, _ = HTMLExporter(template_name="lab").from_notebook_node(without_widgets(nb))
        target.with_suffix(".html").write_text(html, encoding="utf-8")
        written += [target, target.with_suffix(".html")]
    return written


def add_instructor(subparsers):
    from nncourse.cli import _add_lesson_option

    parser = subparsers.add_parser(
        "instructor", help="write the executed solutions with their outputs, and HTML copies",
        description="Run each lesson's solution notebook and write it with its outputs as "
                    "OUT/<lesson>/<lesson>.ipynb and .html: the instructor edition, to teach "
                    "from and to give learners after the deadline (it holds the solutions and "
                    "the hidden tests).")
    _add_lesson_option(parser)
    parser.add_argument("--out", type=Path, default=OUT,
                        help="folder to write to (default: build/instructor)")
    parser.set_defaults(run=run_instructor, extra="course")


def run_instructor(args):
    reason = refused(args.out)
    if reason:
        print(f"nncourse instructor: error: {reason}", file=sys.stderr)
        return 2
    for path in write(args.lessons or lessons(), args.out):
        print(path)
    return 0
