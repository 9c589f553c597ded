"""nnlib and Keras side by side: the same network, the same data, the same steps.

    nncourse parity [--epochs 100] [--out build/parity]

A `Case` names a network, an optimizer, a batch size and a dtype. `run_case` builds the nnlib
network from a seed, copies it into Keras with `to_keras` (identical initial weights), trains
both with `shuffle=False`, and returns a `Comparison`: every epoch's loss and every final
weight from each framework, and the time each took. The parity tests and the `nncourse
parity` command both use it; the command prints `format_table` and saves `plot_comparisons`.

How close is "the same"? Both frameworks do the same float operations in the same order up to
the summation order inside a matrix product, so float64 runs agree to ~1e-15 after 100 epochs.
In float32 the per-step differences are ~1e-7, and training *amplifies* them: with a large
learning rate, or when a ReLU unit's z is within rounding of 0 for some example, they grow to
1e-3 and more. That is no disagreement between the frameworks: nnlib in float32 then differs
from nnlib in float64 by as much, and so does Keras in float32 from Keras in float64. The
learning rates below keep all cases in the well-conditioned regime (see OPTIMIZERS).
"""

import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

import nnlib
from nncourse.keras_bridge import (
    floatx,
    keras_loss,
    keras_module,
    keras_optimizer,
    tensorflow_module,
    to_keras,
)
from nnlib import datasets, optimizers

# What "agree" means: every epoch's loss and every final weight, absolute difference.
TOLERANCE = {"float64": 1e-9, "float32": 1e-4}

# name -> (hidden activation, output activation, loss, data set)
NETWORKS = {
    "sigmoid x3": ("sigmoid", "sigmoid", "binary_crossentropy", "coffee"),
    "relu, relu, sigmoid": ("relu", "sigmoid", "binary_crossentropy", "coffee"),
    "regression": ("relu", "linear", "mean_squared_error", "regression"),
}
UNITS = (25, 15, 1)  # the seed notes' network

# name -> (name in nnlib.optimizers.OPTIMIZERS, keyword arguments for both frameworks); None
# means compile()'s default (RMSprop in both). Chosen for float32, where training amplifies rounding
# (see above): of the rates tried (SGD 0.1, 0.05, 0.02, 0.01; with momentum 0.05 ... 0.003;
# Adam 0.01 ... 0.001), the largest for which nnlib in float32 stayed within 1e-5 of nnlib in
# float64 on all three networks, over 100 epochs and 20 runs whose initial weights differ in
# the last bit. Smaller is not always safer: Adam(0.001) once drifted by 1e-3 (a ReLU kink).
OPTIMIZERS = {
    "SGD": ("sgd", {"learning_rate": 0.05}),
    "SGD momentum": ("sgd", {"learning_rate": 0.005, "momentum": 0.9}),
    "RMSprop (default)": None,
    "Adam": ("adam", {"learning_rate": 0.002}),
}


def load_data(name, m, seed=0):
    """(X, Y) of a data set: "coffee" (2 features, labels 0/1) or "regression" (1 feature)."""
    if name == "coffee":
        return datasets.coffee_roasting(m=m, seed=seed)
    if name == "regression":
        return datasets.regression_signed(m=m, seed=seed)
    raise ValueError(f"Unknown data set. Expected 'coffee' or 'regression'. Received: {name!r}")


def build_network(network, n_features, seed=0, dtype="float64"):
    """The 25-15-1 network `network` (a key of NETWORKS), built with seeded weights."""
    hidden, output, _, _ = NETWORKS[network]
    activations = (hidden, hidden, output)
    return nnlib.Sequential(
        [nnlib.Input((n_features,))]
        + [nnlib.Dense(units, activation=a) for units, a in zip(UNITS, activations, strict=True)],
        seed=seed, dtype=dtype,
    )


def nnlib_optimizer(name):
    """A fresh nnlib optimizer for a key of OPTIMIZERS (None for compile()'s default)."""
    spec = OPTIMIZERS[name]
    return None if spec is None else optimizers.OPTIMIZERS[spec[0]](**spec[1])


@dataclass(frozen=True)
class Case:
    """One side-by-side training run. batch_size=None means full batch (one step per epoch)."""

    network: str
    optimizer: str = "RMSprop (default)"
    batch_size: int | None = 32
    dtype: str = "float64"
    epochs: int = 100
    m: int = 100
    seed: int = 0

    def __post_init__(self):
        if self.network not in NETWORKS:
            raise ValueError(f"network must be one of {list(NETWORKS)}. "
                             f"Received: network={self.network!r}")
        if self.optimizer not in OPTIMIZERS:
            raise ValueError(f"optimizer must be one of {list(OPTIMIZERS)}. "
                             f"Received: optimizer={self.optimizer!r}")
        if self.dtype not in TOLERANCE:
            raise ValueError(f"dtype must be one of {list(TOLERANCE)}. Received: {self.dtype!r}")

    @property
    def name(self):
        batches = "full batch" if self.batch_size is None else f"batch {self.batch_size}"
        return f"{self.network} | {self.optimizer} | {batches} | {self.dtype}"

    @property
    def tolerance(self):
        return TOLERANCE[self.dtype]

    def data(self):
        """(X, Y) in the case's dtype; Y has shape (m, 1)."""
        X, Y = load_data(NETWORKS[self.network][3], self.m, seed=self.seed)
        return X.astype(self.dtype), Y.astype(self.dtype)

    def model(self, optimizer=None):
        """The nnlib network, seeded and compiled (optimizer=None: the case's optimizer)."""
        n_features = self.data()[0].shape[1]
        model = build_network(self.network, n_features, seed=self.seed, dtype=self.dtype)
        model.compile(optimizer=optimizer or nnlib_optimizer(self.optimizer),
                      loss=NETWORKS[self.network][2])
        return model


@dataclass
class Run:
    """One framework's side of a Comparison."""

    losses: np.ndarray   # History: one loss per epoch
    weights: list        # final [W1, b1, W2, b2, W3, b3]
    seconds: float       # time spent in fit


@dataclass
class Comparison:
    case: Case
    nnlib: Run
    keras: Run
    initial_weights: list = field(repr=False)

    @property
    def loss_differences(self):
        """|nnlib - keras| of the loss, per epoch."""
        return np.abs(self.nnlib.losses - self.keras.losses)

    @property
    def max_loss_difference(self):
        return float(self.loss_differences.max(initial=0.0))

    @property
    def weight_differences(self):
        """max |nnlib - keras| of each final weight array (W1, b1, W2, ...)."""
        return [float(np.max(np.abs(a - b)))
                for a, b in zip(self.nnlib.weights, self.keras.weights, strict=True)]

    @property
    def max_weight_difference(self):
        return max(self.weight_differences)

    @property
    def agrees(self):
        tol = self.case.tolerance
        return self.max_loss_difference <= tol and self.max_weight_difference <= tol


def train_nnlib(model, X, Y, batch_size, epochs):
    """nnlib's fit with shuffle=False; returns a Run."""
    start = time.perf_counter()
    history = model.fit(X, Y, batch_size=batch_size, epochs=epochs, shuffle=False, verbose=0)
    seconds = time.perf_counter() - start
    return Run(np.array(history.history["loss"]), model.get_weights(), seconds)


def train_keras(keras_model, X, Y, batch_size, epochs, keras_input="dataset"):
    """Keras's fit with shuffle=False; returns a Run. Call it inside `floatx(dtype)`.

    keras_input="arrays" calls `fit(X, Y, batch_size=..., shuffle=False)`, as a student
    would; "dataset" feeds the same batches in the same order (the last one partial) as a
    pre-batched tf.data.Dataset. Both take exactly the same steps (a parity test checks it),
    but "dataset" is about four times faster: Keras's array adapter builds a new tf.data
    pipeline every epoch, which costs more than a hundred tiny steps.
    """
    start = time.perf_counter()
    if keras_input == "arrays":
        history = keras_model.fit(X, Y, batch_size=batch_size, epochs=epochs, shuffle=False,
                                  verbose=0)
    elif keras_input == "dataset":
        tf = tensorflow_module()
        batches = tf.data.Dataset.from_tensor_slices((X, Y)).batch(batch_size)
        history = keras_model.fit(batches, epochs=epochs, shuffle=False, verbose=0)
    else:
        raise ValueError(f"keras_input must be 'arrays' or 'dataset'. Received: {keras_input!r}")
    seconds = time.perf_counter() - start
    return Run(np.array(history.history["loss"]), keras_model.get_weights(), seconds)


def compile_keras_twin(model, optimizer=None):
    """`to_keras(model)` compiled with the same loss and the Keras `optimizer` given; None
    means Keras's own compile() default, so that the two defaults are compared, not one
    translated into the other."""
    keras_model = to_keras(model, compile=False)
    keras_model.compile(loss=keras_loss(model.loss, dtype=model.dtype.name),
                        **({} if optimizer is None else {"optimizer": optimizer}))
    return keras_model


def run_case(case, keras_input="dataset", nnlib_optimizer_override=None,
             keras_optimizer_override=None):
    """Train the case's network in nnlib and in Keras from identical weights; compare.

    The overrides replace one side's optimizer, to show that a wrong hyperparameter or
    update rule is detected.
    """
    X, Y = case.data()
    batch_size = len(X) if case.batch_size is None else case.batch_size
    with floatx(case.dtype):
        model = case.model(optimizer=nnlib_optimizer_override)
        if keras_optimizer_override is not None:
            keras_opt = keras_optimizer_override
        elif OPTIMIZERS[case.optimizer] is None and nnlib_optimizer_override is None:
            keras_opt = None  # compile()'s default on both sides
        else:
            keras_opt = keras_optimizer(model.optimizer)
        initial_weights = model.get_weights()
        keras_model = compile_keras_twin(model, keras_opt)
        keras_run = train_keras(keras_model, X, Y, batch_size, case.epochs, keras_input)
        nnlib_run = train_nnlib(model, X, Y, batch_size, case.epochs)
    return Comparison(case, nnlib_run, keras_run, initial_weights)


def seed_cases(epochs=100, dtypes=("float64", "float32")):
    """The seed notes' two networks as the notes train them: compile()'s default optimizer
    (RMSprop), batch_size 32 (Keras's default), on 200 coffee-roasting examples."""
    return [Case(network, "RMSprop (default)", batch_size=32, dtype=dtype, epochs=epochs, m=200)
            for network in ("sigmoid x3", "relu, relu, sigmoid") for dtype in dtypes]


# ------------------------------------------------------------------ one gradient step


def keras_gradients(keras_model, X, Y):
    """Keras's side of nnlib's `model.compute_gradients(X, Y)`: (J, [dW1, db1, dW2, ...]).

    J = loss(Y, keras_model(X)) with the compiled loss, and its gradients by tf.GradientTape
    in `get_weights()` order; X: (m, n_features), Y: (m, units) or (m,).
    """
    tf = tensorflow_module()
    X = tf.constant(X, dtype=keras_model.layers[0].kernel.dtype)
    with tf.GradientTape() as tape:
        cost = keras_model.loss(Y, keras_model(X, training=True))
    grads = tape.gradient(cost, keras_model.trainable_variables)
    return float(cost), [np.asarray(g) for g in grads]


# ------------------------------------------------------------------ report


def format_table(comparisons):
    """A text table: case, epochs, max |loss difference|, max |weight difference|, times."""
    header = ("case", "epochs", "max |loss diff|", "max |weight diff|", "tolerance",
              "nnlib time", "Keras time")
    rows = [header]
    for c in comparisons:
        rows.append((c.case.name, str(c.case.epochs), f"{c.max_loss_difference:.1e}",
                     f"{c.max_weight_difference:.1e}", f"{c.case.tolerance:.0e}",
                     f"{c.nnlib.seconds:.2f} s", f"{c.keras.seconds:.2f} s"))
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    lines = []
    for k, row in enumerate(rows):
        cells = [row[0].ljust(widths[0])]
        cells += [cell.rjust(width) for cell, width in zip(row[1:], widths[1:], strict=True)]
        lines.append("  ".join(cells))
        if k == 0:
            lines.append("  ".join("-" * width for width in widths))
    return "\n".join(lines)


def plot_comparisons(comparisons, path):
    """Save a PNG, one row per network: both frameworks' loss curves overlaid (left), and
    |nnlib - Keras| of the loss per epoch on a log scale, one line per dtype (right).

    Uses matplotlib's object API (no pyplot), so it changes no global backend or state.
    """
    from matplotlib.figure import Figure

    floor = 1e-18  # bit-for-bit equal epochs have no place on a log scale: marked down here
    networks = list(dict.fromkeys(c.case.network for c in comparisons))
    fig = Figure(figsize=(12, 3.8 * len(networks)), layout="constrained")
    axes = fig.subplots(len(networks), 2, squeeze=False)
    for (ax_loss, ax_diff), network in zip(axes, networks, strict=True):
        for k, c in enumerate(x for x in comparisons if x.case.network == network):
            epochs = np.arange(1, len(c.nnlib.losses) + 1)
            color = f"C{k}"
            ax_loss.plot(epochs, c.nnlib.losses, color=color, lw=4, alpha=0.35,
                         label=f"nnlib, {c.case.dtype}")
            ax_loss.plot(epochs, c.keras.losses, color=color, lw=1.2, ls="--",
                         label=f"Keras, {c.case.dtype}")
            diff = c.loss_differences
            ax_diff.semilogy(epochs, np.where(diff > 0, diff, np.nan), color=color, marker=".",
                             ms=3, lw=0.8, label=c.case.dtype)
            equal = diff == 0
            if equal.any():
                n = int(equal.sum())
                ax_diff.plot(epochs[equal], np.full(n, floor), "v", color=color, ms=4,
                             label=f"{c.case.dtype}: identical ({n} epoch{'s' * (n > 1)})")
            ax_diff.axhline(c.case.tolerance, color=color, ls=":", lw=1.2,
                            label=f"{c.case.dtype} tolerance ({c.case.tolerance:.0e})")
        ax_loss.set(title=f"{network}: loss per epoch (History)", xlabel="epoch",
                    ylabel="loss")
        ax_diff.set(title=f"{network}: |nnlib loss - Keras loss| per epoch", xlabel="epoch",
                    ylabel="|difference| (log scale)", ylim=(floor / 3, 1e2))
        for ax in (ax_loss, ax_diff):
            ax.grid(True, alpha=0.3)
        ax_loss.legend(fontsize="small")
        ax_diff.legend(fontsize="x-small", ncols=2, loc="upper center")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    return path


def main(epochs=100, out=Path("build/parity"), dtypes=("float64", "float32"),
         keras_input="dataset", print_fn=print):
    """Run the seed cases, print the table, save the figure; return the comparisons."""
    keras = keras_module()
    tf = tensorflow_module()
    fed = ("fit(X, Y, batch_size=32, shuffle=False), as in the notes" if keras_input == "arrays"
           else "the same batches of 32, in order, as a tf.data.Dataset")
    print_fn(f"The seed notes' two networks in nnlib and in Keras {keras.__version__} "
             f"(TensorFlow {tf.__version__}),\nfrom identical initial weights: 200 "
             f"coffee-roasting examples, BinaryCrossentropy, compile()'s default\nRMSprop, "
             f"{epochs} epochs, no shuffling. Keras is fed {fed}.\n")
    comparisons = [run_case(case, keras_input=keras_input)
                   for case in seed_cases(epochs, dtypes)]
    print_fn(format_table(comparisons))
    path = plot_comparisons(comparisons, Path(out) / "parity.png")
    if all(c.agrees for c in comparisons):
        verdict = "Every epoch's loss and every final weight agree within the tolerance."
    else:
        verdict = "DISAGREEMENT: some case differs by more than its tolerance."
    print_fn(f"\n{verdict}\nFigure: {path}")
    return comparisons
