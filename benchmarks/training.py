"""Training speed: nnlib vs Keras vs a bare NumPy loop (the floor), run interleaved.

    python benchmarks/training.py [--repeats 3] [--quick] [--out benchmarks/results]

The seed's two networks (25-15-1; sigmoid x3 and relu, relu, sigmoid) with binary
cross-entropy and SGD(0.1), on m = 1,000 / 10,000 / 100,000 examples of two features for
100 / 10 / 2 epochs, with batch_size 32 and batch_size m, shuffle=False. Each library runs in
its default precision (nnlib float64, Keras float32). For each case the three runs are
interleaved, repeat after repeat, in this one process, each in turn going first, and the
median time is reported, so that a busy machine slows all three alike. Keras's time is
that of `fit(verbose=0)` on a freshly built model (tracing included, import excluded).
Writes training.md and training.png into --out.
"""

import argparse
import os
import statistics
import time
from pathlib import Path

import numpy as np

from nncourse.keras_bridge import floatx, keras_module
from nncourse.notes import seed_network
from nnlib import SGD, BinaryCrossentropy

LEARNING_RATE = 0.1
CASES = [(1_000, 100), (10_000, 10), (100_000, 2)]  # (m, epochs)


def bare_numpy_fit(X, Y, weights, hidden, epochs, batch_size):
    """The floor: the same training written inline, no framework, no checks.

    Returns the per-epoch cost, which must equal nnlib's (the benchmark checks it).
    """
    W1, b1, W2, b2, W3, b3 = (w.copy() for w in weights)
    if hidden == "relu":
        def g(Z):
            return np.maximum(Z, 0)

        def g_prime(Z, A):
            return Z > 0
    else:
        def g(Z):
            return 1 / (1 + np.exp(-Z))

        def g_prime(Z, A):
            return A * (1 - A)
    history = []
    for _ in range(epochs):
        total = 0.0
        for s in range(0, len(X), batch_size):
            Xb, Yb = X[s:s + batch_size], Y[s:s + batch_size]
            Z1 = Xb @ W1 + b1
            A1 = g(Z1)
            Z2 = A1 @ W2 + b2
            A2 = g(Z2)
            Z3 = A2 @ W3 + b3
            A3 = 1 / (1 + np.exp(-Z3))
            total += np.sum(np.maximum(Z3, 0) - Z3 * Yb + np.log1p(np.exp(-np.abs(Z3))))
            dZ3 = (A3 - Yb) / len(Xb)
            dZ2 = (dZ3 @ W3.T) * g_prime(Z2, A2)
            dZ1 = (dZ2 @ W2.T) * g_prime(Z1, A1)
            W3 -= LEARNING_RATE * (A2.T @ dZ3)
            b3 -= LEARNING_RATE * dZ3.sum(axis=0)
            W2 -= LEARNING_RATE * (A1.T @ dZ2)
            b2 -= LEARNING_RATE * dZ2.sum(axis=0)
            W1 -= LEARNING_RATE * (Xb.T @ dZ1)
            b1 -= LEARNING_RATE * dZ1.sum(axis=0)
        history.append(total / len(X))
    return history


def time_nnlib(X, Y, weights, hidden, epochs, batch_size):
    model = seed_network(hidden)
    model.compile(optimizer=SGD(LEARNING_RATE), loss=BinaryCrossentropy())
    model.set_weights(weights)
    start = time.perf_counter()
    history = model.fit(X, Y, batch_size=batch_size, epochs=epochs, shuffle=False, verbose=0)
    return time.perf_counter() - start, history.history["loss"]


def time_floor(X, Y, weights, hidden, epochs, batch_size):
    start = time.perf_counter()
    history = bare_numpy_fit(X, Y, weights, hidden, epochs, batch_size)
    return time.perf_counter() - start, history


def time_keras(X, Y, weights, hidden, epochs, batch_size):
    keras = keras_module()  # imports TensorFlow quietly, with oneDNN off, as parity does
    with floatx("float32"):  # Keras's default precision, whatever another caller set
        model = keras.Sequential([keras.Input((X.shape[1],)),
                                  keras.layers.Dense(25, activation=hidden),
                                  keras.layers.Dense(15, activation=hidden),
                                  keras.layers.Dense(1, activation="sigmoid")])
        model.set_weights(weights)
        model.compile(optimizer=keras.optimizers.SGD(LEARNING_RATE),
                      loss=keras.losses.BinaryCrossentropy())
        start = time.perf_counter()
        history = model.fit(X, Y, batch_size=batch_size, epochs=epochs, shuffle=False,
                            verbose=0)
        return time.perf_counter() - start, history.history["loss"]


def run(cases, repeats):
    """Return one row per case: median seconds of each runner and the loss agreement."""
    runners = {"nnlib": time_nnlib, "keras": time_keras, "numpy floor": time_floor}
    rows = []
    for m, epochs in cases:
        rng = np.random.default_rng(0)
        X = rng.normal(size=(m, 2))
        Y = (X[:, :1] * X[:, 1:] > 0).astype(np.float64)  # XOR of the signs: needs the network
        for hidden in ("sigmoid", "relu"):
            model = seed_network(hidden, seed=1)
            model.build((None, 2))
            weights = model.get_weights()
            for batch_size in (32, m):
                times = {name: [] for name in runners}
                losses = {}
                for repeat in range(repeats):
                    # Rotate who goes first, so that no runner always follows Keras (whose
                    # threads may still be busy when fit returns).
                    names = list(runners)[repeat % 3:] + list(runners)[:repeat % 3]
                    for name in names:
                        seconds, losses[name] = runners[name](X, Y, weights, hidden, epochs,
                                                              batch_size)
                        times[name].append(seconds)
                median = {name: statistics.median(t) for name, t in times.items()}
                rows.append({
                    "network": f"{hidden} x2, sigmoid" if hidden == "relu" else "sigmoid x3",
                    "m": m, "epochs": epochs, "batch_size": batch_size, **median,
                    "loss_gap_floor": float(np.max(np.abs(np.subtract(losses["nnlib"],
                                                                      losses["numpy floor"])))),
                    "loss_gap_keras": float(np.max(np.abs(np.subtract(losses["nnlib"],
                                                                      losses["keras"])))),
                })
                print(_format_row(rows[-1]), flush=True)
    return rows


HEADER = ("| network | m | epochs | batch | nnlib s | Keras s | floor s | Keras/nnlib | "
          "nnlib/floor | max loss gap nnlib-floor | nnlib-Keras (float32) |")


def _format_row(r):
    return (f"| {r['network']} | {r['m']:,} | {r['epochs']} | {r['batch_size']:,} | "
            f"{r['nnlib']:.3f} | {r['keras']:.2f} | {r['numpy floor']:.3f} | "
            f"{r['keras'] / r['nnlib']:.1f} | {r['nnlib'] / r['numpy floor']:.2f} | "
            f"{r['loss_gap_floor']:.1e} | {r['loss_gap_keras']:.1e} |")


def write_report(rows, out, repeats):
    out.mkdir(parents=True, exist_ok=True)
    separator = "|" + "---|" * (HEADER.count("|") - 1)
    lines = [f"Median of {repeats} interleaved runs, {os.cpu_count()} cores.", "", HEADER,
             separator]
    lines += [_format_row(r) for r in rows]
    (out / "training.md").write_text("\n".join(lines) + "\n")

    from matplotlib.figure import Figure  # no pyplot: no global backend or figure state

    labels = [f"{r['network'][:4]} m={r['m']:,}\nbatch {r['batch_size']:,}" for r in rows]
    x = np.arange(len(rows))
    fig = Figure(figsize=(11, 4))
    ax = fig.subplots()
    for k, name in enumerate(("nnlib", "keras", "numpy floor")):
        ax.bar(x + (k - 1) * 0.27, [r[name] for r in rows], width=0.27, label=name)
    ax.set_yscale("log")
    ax.set_ylabel("seconds (median)")
    ax.set_xticks(x, labels, fontsize=7)
    ax.legend()
    ax.set_title("Training time of the seed networks: nnlib, Keras and a bare NumPy loop")
    fig.tight_layout()
    fig.savefig(out / "training.png", dpi=100)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="tiny cases, to check it runs")
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results"))
    args = parser.parse_args(argv)
    cases = [(200, 3)] if args.quick else CASES
    print(HEADER)
    rows = run(cases, args.repeats)
    write_report(rows, args.out, args.repeats)
    print(f"\nwritten: {args.out / 'training.md'}, {args.out / 'training.png'}")
    return rows


if __name__ == "__main__":
    main()
