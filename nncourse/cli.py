"""The course tool: `nncourse <command>`.

    nncourse parity [--epochs 100] [--out build/parity] [--dtype both] [--keras-input dataset]

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


COMMANDS = [add_parity]


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
