"""The course tool: `nncourse <command>`.

    nncourse train-seed [--epochs 100] [--out build/seed]
    nncourse parity [--epochs 100] [--out build/parity] [--dtype both] [--keras-input dataset]
    nncourse release [--lesson L ...] [--out lessons]
    nncourse grade SUBMISSIONS [--lesson L ...] [--roster FILE]
                   [--jobs N | --cluster local:N | --scheduler ADDRESS] [--out DIR]
                   [--db-url URL] [--timeout S] [--notebook-timeout S] [--memory-mb MB]
                   [--regrade] [--reset-manual]
    nncourse instructor [--lesson L ...] [--out build/instructor]
    nncourse slides [--lesson L ...] [--out build/slides]
    nncourse lab [FOLDER] [--ip 127.0.0.1] [--port 8888] [--no-browser]
    nncourse check NOTEBOOK ... [--jobs N]
    nncourse formgrader OUT [--ip 127.0.0.1] [--port 8888] [--no-browser]
    nncourse audit [--lesson L ...] [--jobs N] [--out build/audit] [--verify K]
                   [--source solutions] [--fixtures tests/fixtures]

Each command is two small functions: `add_<command>(subparsers)` declares its arguments and
the optional dependencies it needs (an extra of the `nncourse` package), and
`run_<command>(args)` runs it and returns the exit code. Heavy imports (TensorFlow, the
autograder) happen inside `run_<command>`, so `nncourse --help` stays fast; when one is not
installed, `main` says which extra to install instead of showing a traceback.
"""

import argparse
import sys
from pathlib import Path

from nncourse.course import RELEASE, lessons
from nncourse.grading.limits import DEFAULT, Limits
from nncourse.instructor import add_instructor
from nncourse.selfcheck import add_check
from nncourse.slides import add_slides


def add_parity(subparsers):
    parser = subparsers.add_parser(
        "parity",
        help="train the seed's networks in nnlib and Keras side by side and compare",
        description="Train the seed notes' two networks (sigmoid x3; relu, relu, sigmoid) in "
                    "nnlib and in Keras from identical weights, print the largest differences "
                    "of loss and weights and the time each framework took, and save a figure "
                    "of both loss curves and their difference per epoch.",
    )
    parser.add_argument("--epochs", type=_positive_int, default=100,
                        help="epochs of training (default: 100)")
    parser.add_argument("--out", type=Path, default=Path("build/parity"),
                        help="directory for the figure parity.png (default: build/parity)")
    parser.add_argument("--dtype", choices=("float64", "float32", "both"), default="both",
                        help="precision of both frameworks (default: both, one row each)")
    parser.add_argument("--keras-input", choices=("dataset", "arrays"), default="dataset",
                        help="feed Keras a tf.data.Dataset of the same batches (default), or "
                             "the arrays as the notes do: same numbers, about 4x slower")
    parser.set_defaults(run=run_parity, extra="keras")


def run_parity(args):
    from nncourse import parity  # imports TensorFlow

    dtypes = ("float64", "float32") if args.dtype == "both" else (args.dtype,)
    comparisons = parity.main(epochs=args.epochs, out=args.out, dtypes=dtypes,
                              keras_input=args.keras_input)
    return 0 if all(c.agrees for c in comparisons) else 1


def add_train_seed(subparsers):
    parser = subparsers.add_parser(
        "train-seed", help="train the seed notes' two networks with nnlib (the first demo)",
        description="Train the seed notes' two 25-15-1 networks (sigmoid x3; relu, relu, "
                    "sigmoid) on the coffee data as the notes do, print the cost every 10 "
                    "epochs and the final accuracy, and save the two loss curves.")
    parser.add_argument("--epochs", type=_positive_int, default=100,
                        help="epochs of training (default: 100)")
    parser.add_argument("--out", type=Path, default=Path("build/seed"),
                        help="directory for the figure loss_curves.png (default: build/seed)")
    parser.set_defaults(run=run_train_seed, extra="course")  # the figure needs matplotlib


def run_train_seed(args):
    from nncourse import notes

    notes.main(epochs=args.epochs, out=args.out)
    return 0


def add_release(subparsers):
    parser = subparsers.add_parser(
        "release", help="regenerate lessons/ from solutions/ with the autograder, and check it",
        description="Generate each lesson's learner notebook from solutions/<lesson>/ (the "
                    "instructor's) with nbgrader generate_assignment, into lessons/<lesson>/, "
                    "and check that no solution code and no hidden test is left in it.")
    _add_lesson_option(parser)
    parser.add_argument("--out", type=Path, default=RELEASE,
                        help="folder for the lessons (default: lessons/; another folder, e.g. "
                             "to compare with lessons/)")
    parser.set_defaults(run=run_release, extra="course")


def run_release(args):
    from nncourse.course import release

    for path in release(args.lessons, out=args.out):
        print(f"released {path} (no solution code, no hidden test)")
    return 0


def add_grade(subparsers):
    parser = subparsers.add_parser(
        "grade", help="autograde a class with nbgrader, in parallel, and write feedback",
        description="Grade every submission in SUBMISSIONS (nbgrader's <student>/<lesson>/ "
                    "layout, or a folder or .zip of <student>_<lesson>.ipynb files, Canvas "
                    "downloads or Moodle submission folders) with the "
                    "real nbgrader autograde, each on a sandboxed kernel; write the gradebook, "
                    "grades.csv, flags.csv, one HTML feedback report per student and lesson, "
                    "and a figure of the class's score per exercise. OUT keeps them across "
                    "runs: a re-run grades only the submissions that are new or changed (or "
                    "whose lesson's tests changed), and keeps what was graded by hand in "
                    "formgrader.")
    parser.add_argument("submissions", type=Path)
    _add_lesson_option(parser)
    parser.add_argument("--roster", type=Path, metavar="FILE",
                        help="CSV with a header row name,student_id: maps the names in Canvas, "
                             "Moodle or flat downloads to the gradebook's student ids; names "
                             "not in it are not graded (listed with the reason)")
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--jobs", type=_positive_int, default=None,
                       help="students graded at once on this machine (default: the number of "
                            "cores)")
    where.add_argument("--cluster", metavar="local:N", default=None,
                       help="grade on a Dask LocalCluster of N worker processes started for "
                            "this grading (its dashboard shows the progress)")
    where.add_argument("--scheduler", metavar="ADDRESS", default=None,
                       help="grade on the Dask cluster whose scheduler is at ADDRESS (e.g. "
                            "tcp://10.0.0.5:8786; see the README for starting one)")
    parser.add_argument("--out", type=Path, default=Path("build/grading"))
    parser.add_argument("--db-url", default=None,
                        help="gradebook as an SQLAlchemy URL, e.g. postgresql://HOST/DB "
                             "(default: OUT/gradebook.db)")
    parser.add_argument("--timeout", type=_positive_int, default=DEFAULT.cell_s,
                        help=f"seconds a cell may run (default: {DEFAULT.cell_s})")
    parser.add_argument("--notebook-timeout", type=_positive_int, default=DEFAULT.notebook_s,
                        help="seconds all of a notebook's cells may run; later cells are not "
                             f"run (default: {DEFAULT.notebook_s})")
    parser.add_argument("--memory-mb", type=_positive_int, default=DEFAULT.memory_mb,
                        help="address space a kernel may use, in MB "
                             f"(default: {DEFAULT.memory_mb})")
    parser.add_argument("--regrade", action="store_true",
                        help="grade every submission again, not only the new and changed "
                             "ones (scores and comments given in formgrader are kept)")
    parser.add_argument("--reset-manual", action="store_true",
                        help="grade every submission again and drop the scores, comments and "
                             "flags given by hand in formgrader")
    parser.print_usage = lambda file=None: None  # a mistake is one line, not the usage too
    parser.set_defaults(run=run_grade, extra="course")


def run_grade(args):
    import time

    from nncourse.grading import UsageError, grade_class, nbgrader
    from nncourse.grading.report import class_table, exercise_figure

    start = time.perf_counter()
    if args.cluster and not args.cluster.startswith("local:"):
        print(f"nncourse grade: error: --cluster {args.cluster}: expected local:N (a cluster "
              "already running is given by its scheduler's address: --scheduler ADDRESS)",
              file=sys.stderr)
        return 2
    limits = Limits(cell_s=args.timeout, notebook_s=args.notebook_timeout,
                    memory_mb=args.memory_mb)
    try:
        results, skipped, course, db_url = grade_class(
            args.submissions, args.out, lessons=args.lessons, jobs=args.jobs,
            db_url=args.db_url, limits=limits, regrade=args.regrade,
            reset_manual=args.reset_manual, roster=args.roster,
            cluster=args.cluster or args.scheduler)
    except UsageError as error:  # nothing was written: say what to fix, no traceback
        print(f"nncourse grade: error: {error}", file=sys.stderr)
        return 2
    out = args.out.resolve()
    graded = [r for r in results if r.graded_now]
    failed = [r for r in graded if r.failure]
    recorded = [r for r in graded if not r.failure]
    current = {(r.student, r.lesson) for r in results if r not in recorded}
    reports = nbgrader.feedback(course, db_url, sorted({r.lesson for r in recorded}), current)
    figure = exercise_figure(results, out / "exercises.png") if results else None
    print()
    print(class_table(results, args.lessons or lessons()))
    for item in skipped:
        print(f"not graded: {item.path}: {item.reason}")
    for r in failed:
        print(f"could not grade: {r.student} {r.lesson}: see {r.failure}", file=sys.stderr)
    print(f"\n{len(recorded)} graded, {len(failed)} could not be graded, "
          f"{len(results) - len(graded)} unchanged, {len(skipped)} skipped "
          f"in {time.perf_counter() - start:.1f} s")
    print(f"grades: {out / 'grades.csv'}  flags: {out / 'flags.csv'}")
    print(f"feedback: {len(reports)} reports in {course / 'feedback'}")
    if figure:
        print(f"figure: {figure}")
    return 1 if failed else 0


def add_lab(subparsers):
    parser = subparsers.add_parser(
        "lab", help="open the lessons in JupyterLab, as a learner works on them",
        description="Start JupyterLab on FOLDER (default: the course's lessons/) with nbgrader's "
                    "Validate button and nothing an instructor uses; no activated environment "
                    "needed. Stop it with Ctrl-C.")
    parser.add_argument("folder", type=Path, nargs="?", default=RELEASE, metavar="FOLDER")
    _add_server_options(parser)
    parser.set_defaults(run=run_lab, extra="course")


def run_lab(args):
    from nncourse import lab

    if not args.folder.is_dir():
        print(f"nncourse lab: error: {args.folder} is not a folder (expected the lessons, or "
              "any folder of notebooks)", file=sys.stderr)
        return 2
    _require("jupyterlab")
    lab.run(lab.server(args.folder, ip=args.ip, port=args.port,
                       open_browser=not args.no_browser))


def add_formgrader(subparsers):
    parser = subparsers.add_parser(
        "formgrader", help="open nbgrader's formgrader on a class graded by `nncourse grade`",
        description="Start JupyterLab with nbgrader's formgrader on OUT (the folder given to "
                    "`nncourse grade --out`): review flagged notebooks and grade by hand; "
                    "manual grades stay through the next `nncourse grade`. Stop it with "
                    "Ctrl-C.")
    parser.add_argument("out", type=Path, metavar="OUT")
    _add_server_options(parser)
    parser.set_defaults(run=run_formgrader, extra="course")


def run_formgrader(args):
    from nncourse import lab
    from nncourse.grading.formgrader import server_command

    try:
        server = server_command(args.out, ip=args.ip, port=args.port,
                                open_browser=not args.no_browser)
    except ValueError as error:
        print(f"nncourse formgrader: error: {error}", file=sys.stderr)
        return 2
    _require("jupyterlab")
    print(f"formgrader on {args.out}: http://{args.ip}:{args.port}/formgrader, with the token "
          "JupyterLab prints below (Ctrl-C stops it)", flush=True)
    lab.run(server)  # formgrader reads OUT/course/nbgrader_config.py there


def add_audit(subparsers):
    from nncourse.course import ROOT, SOLUTIONS

    parser = subparsers.add_parser(
        "audit", help="for course authors: which wrong answers do the lessons' tests pass?",
        description="Make mutants of each exercise's solution (swapped operands, a flipped "
                    "sign, a dropped term, a wrong axis, an off-by-one, ...) and add the "
                    "hand-written wrong answers of FIXTURES/wrong_answers/; grade each with "
                    "the lesson's test cells on the grader's sandboxed kernels; print how "
                    "many each exercise's public tests kill, how many only hidden tests kill "
                    "and how many survive, and write OUT/report.md with every survivor's "
                    "diff. Exit status 1 when a survivor is not reviewed as equivalent in "
                    "FIXTURES/equivalent_mutants.py.")
    _add_lesson_option(parser)
    parser.add_argument("--jobs", type=_positive_int, default=None,
                        help="worker processes, each with one kernel (default: one per core)")
    parser.add_argument("--out", type=Path, default=Path("build/audit"),
                        help="folder for report.md (default: build/audit)")
    parser.add_argument("--verify", type=int, default=0, metavar="K",
                        help="also grade K mutants per lesson (drawn from each verdict) with "
                             "`nncourse grade` itself, and report any verdict that differs")
    parser.add_argument("--source", type=Path, default=SOLUTIONS,
                        help="folder of the instructor's lessons (default: solutions/)")
    parser.add_argument("--fixtures", type=Path, default=ROOT / "tests" / "fixtures",
                        help="folder with wrong_answers/ and equivalent_mutants.py (default: "
                             "the course's tests/fixtures)")
    parser.set_defaults(run=run_audit, extra="course")


def run_audit(args):
    from nncourse.audit import SURVIVED, audit
    from nncourse.audit.report import markdown, table
    from nncourse.course import SOLUTIONS

    if args.verify and args.source.resolve() != SOLUTIONS:
        print("nncourse audit: error: --verify grades with nncourse grade, which grades the "
              f"lessons of {SOLUTIONS}; it cannot check an audit of --source {args.source}",
              file=sys.stderr)
        return 2
    names = args.lessons or sorted(p.name for p in args.source.iterdir()
                                   if (p / f"{p.name}.ipynb").is_file())
    result = audit(names, source=args.source, fixtures=args.fixtures, jobs=args.jobs)
    print()
    print(table(result.rows))
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "report.md").write_text(markdown(result))
    survivors = [r for r in result.rows if r.status == SURVIVED]
    print(f"\n{len(survivors)} survivor(s); report with every survivor's diff: "
          f"{args.out / 'report.md'}")
    for lesson, key, _ in result.stale:
        print(f"stale entry in equivalent_mutants.py: {lesson} {key} (not a survivor now)")
    disagreements = []
    if args.verify:
        from nncourse.audit.verify import verify

        disagreements = verify(result.rows, args.verify, args.out / "verify", jobs=args.jobs)
        print(f"verified {args.verify} mutant(s) per lesson with nncourse grade: "
              f"{len(disagreements)} verdict(s) differ")
        for text in disagreements:
            print(f"  {text}")
    return 1 if survivors or disagreements else 0


COMMANDS = [add_train_seed, add_parity, add_release, add_instructor, add_slides, add_lab,
            add_check, add_grade, add_formgrader, add_audit]


def build_parser():
    parser = argparse.ArgumentParser(
        prog="nncourse", description="Tools for the course on how neural networks are trained.")
    subparsers = parser.add_subparsers(title="commands", metavar="command", dest="command",
                                       required=True)
    for add_command in COMMANDS:
        add_command(subparsers)
    return parser


def main(argv=None):
    args = build_parser().parse_args(argv)
    try:
        return args.run(args)
    except ModuleNotFoundError as error:
        missing = (error.name or "").split(".")[0]
        if missing in ("", "nncourse", "nnlib"):
            raise  # a bug of ours, not a missing dependency
        print(f"nncourse {args.command} needs {missing}, which is not installed: "
              f"pip install 'nncourse[{args.extra}]' (or pip install -r requirements.txt)",
              file=sys.stderr)
        return 1


def _add_lesson_option(parser):
    parser.add_argument("--lesson", action="append", dest="lessons", metavar="L",
                        choices=lessons(),
                        help=f"only this lesson (repeatable; default: all): {', '.join(lessons())}")


def _add_server_options(parser):
    parser.add_argument("--ip", default="127.0.0.1",
                        help="address to listen on (default: 127.0.0.1, this machine only)")
    parser.add_argument("--port", type=_positive_int, default=8888,
                        help="port to listen on (default: 8888)")
    parser.add_argument("--no-browser", action="store_true", help="do not open a browser")


def _require(module):
    """ModuleNotFoundError now (main names the extra) for a module a server started later needs."""
    import importlib.util

    if importlib.util.find_spec(module) is None:
        raise ModuleNotFoundError(f"No module named {module!r}", name=module)


def _positive_int(text):
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer. Received: {text!r}")
    return value


if __name__ == "__main__":
    raise SystemExit(main())
