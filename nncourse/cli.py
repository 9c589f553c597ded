"""The course tool: `nncourse <command>`.

    nncourse train-seed [--epochs 100] [--out build/seed]
    nncourse parity [--epochs 100] [--out build/parity] [--dtype both] [--keras-input dataset]
    nncourse release [--lesson L ...]
    nncourse grade SUBMISSIONS [--lesson L ...] [--jobs N] [--out DIR] [--db-url URL]

Each command is two small functions: `add_<command>(subparsers)` declares its arguments and
`run_<command>(args)` runs it and returns the exit code. Heavy imports (TensorFlow) happen
inside `run_<command>`, so `nncourse --help` stays fast.
"""

import argparse
from pathlib import Path


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
    parser.set_defaults(run=run_parity)


def run_parity(args):
    from nncourse import parity  # imports TensorFlow

    dtypes = ("float64", "float32") if args.dtype == "both" else (args.dtype,)
    comparisons = parity.main(epochs=args.epochs, out=args.out, dtypes=dtypes,
                              keras_input=args.keras_input)
    return 0 if all(c.agrees for c in comparisons) else 1


def add_train_seed(subparsers):
    parser = subparsers.add_parser(
        "train-seed", help="train the seed notes' two networks with nnlib (the first demo)")
    parser.add_argument("--epochs", type=_positive_int, default=100)
    parser.add_argument("--out", type=Path, default=Path("build/seed"))
    parser.set_defaults(run=run_train_seed)


def run_train_seed(args):
    from nncourse import seed

    seed.main(["--epochs", str(args.epochs), "--out", str(args.out)])
    return 0


def add_release(subparsers):
    parser = subparsers.add_parser(
        "release", help="regenerate lessons/ from solutions/ with nbgrader, and check it")
    parser.add_argument("--lesson", action="append", dest="lessons", metavar="L",
                        help="only this lesson (repeatable; default: all)")
    parser.set_defaults(run=run_release)


def run_release(args):
    from nncourse.release import release

    for path in release(args.lessons):
        print(f"released {path} (no solution code, no hidden test)")
    return 0


def add_grade(subparsers):
    parser = subparsers.add_parser(
        "grade", help="autograde a class with nbgrader, in parallel, and write feedback",
        description="Grade every submission in SUBMISSIONS (nbgrader's <student>/<lesson>/ "
                    "layout, or a folder or .zip of <student>_<lesson>.ipynb files) with the "
                    "real nbgrader autograde, each on a sandboxed kernel; write the gradebook, "
                    "grades.csv, one HTML feedback report per student and lesson, and a "
                    "figure of the class's score per exercise.")
    parser.add_argument("submissions", type=Path)
    parser.add_argument("--lesson", action="append", dest="lessons", metavar="L",
                        help="only this lesson (repeatable; default: all)")
    parser.add_argument("--jobs", type=_positive_int, default=None,
                        help="students graded at once (default: the number of cores)")
    parser.add_argument("--out", type=Path, default=Path("build/grading"))
    parser.add_argument("--db-url", default=None,
                        help="gradebook as an SQLAlchemy URL (default: OUT/gradebook.db)")
    parser.add_argument("--timeout", type=_positive_int, default=30,
                        help="seconds a cell may run (default: 30)")
    parser.add_argument("--memory-mb", type=_positive_int, default=6000,
                        help="address space a kernel may use, in MB (default: 6000)")
    parser.set_defaults(run=run_grade)


def run_grade(args):
    import time

    from nncourse.feedback import export_grades, generate_feedback
    from nncourse.grading import grade_class, lessons_in
    from nncourse.report import class_table, exercise_figure

    start = time.perf_counter()
    results, skipped, course = grade_class(args.submissions, args.out, lessons=args.lessons,
                                           jobs=args.jobs, db_url=args.db_url,
                                           timeout=args.timeout, memory_mb=args.memory_mb)
    lessons = args.lessons or lessons_in()
    out = args.out.resolve()
    csv = export_grades(course, out / "grades.csv")
    reports = generate_feedback(course, sorted({r.lesson for r in results}))
    figure = exercise_figure(results, out / "exercises.png") if results else None
    print()
    print(class_table(results, lessons))
    for item in skipped:
        print(f"not graded: {item.path}: {item.reason}")
    print(f"\n{len(results)} notebooks graded in {time.perf_counter() - start:.1f} s")
    print(f"grades: {csv}")
    print(f"feedback: {len(reports)} reports in {course / 'feedback'}")
    if figure:
        print(f"figure: {figure}")
    return 0


COMMANDS = [add_train_seed, add_parity, add_release, add_grade]


def build_parser():
    parser = argparse.ArgumentParser(
        prog="nncourse", description="Tools for the course on how neural networks are trained.")
    subparsers = parser.add_subparsers(title="commands", metavar="command", required=True)
    for add_command in COMMANDS:
        add_command(subparsers)
    return parser


def main(argv=None):
    args = build_parser().parse_args(argv)
    return args.run(args)


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
