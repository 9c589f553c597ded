"""Parity with the real TensorFlow/Keras: nnlib computes the same network, step for step.

Run alone with `pytest -m parity`. Every expected value here is computed by Keras at test time;
nothing is copied from a previous run. Tolerances: float64 1e-12 for one forward pass, loss or
gradient and 1e-9 after 100 epochs of training; float32 1e-6 and 1e-4.
"""

import os
import re
import subprocess
import sys

import numpy as np
import pytest

import nnlib
from nncourse import parity
from nncourse.keras_bridge import (
    floatx,
    from_keras,
    keras_loss,
    keras_module,
    keras_optimizer,
    to_keras,
)
from nncourse.parity import (
    NETWORKS,
    OPTIMIZERS,
    Case,
    compile_keras_twin,
    keras_gradients,
    nnlib_gradients,
    run_case,
    train_keras,
    train_nnlib,
)
from nnlib import losses

pytestmark = pytest.mark.parity


class _Keras:
    """`keras`, imported on first use: collecting (or deselecting) these tests costs nothing.
    keras_module() sets TF_ENABLE_ONEDNN_OPTS=0 and TF_CPP_MIN_LOG_LEVEL=3 before the import."""

    def __getattr__(self, name):
        return getattr(keras_module(), name)


keras = _Keras()
ONE_STEP_TOLERANCE = {"float64": 1e-12, "float32": 1e-6}
DTYPES = ["float64", "float32"]
ACTIVATIONS = ["sigmoid", "relu", "linear"]
LABEL_SHAPES = ["(m,)", "(m, 1)"]
PARAM_NAMES = ["W1", "b1", "W2", "b2", "W3", "b3"]


@pytest.fixture(autouse=True)
def restore_keras_floatx():
    """Keras's floatx (and the dtype policy it caches from it) are global: every test may set
    them, and the next test gets the previous ones back, so the order of tests does not matter."""
    before = keras.config.floatx(), keras.config.dtype_policy()
    yield
    keras.config.set_floatx(before[0])
    keras.config.set_dtype_policy(before[1])


def set_floatx(dtype):
    """keras.config.set_floatx, plus the global dtype policy that Keras caches from it."""
    keras.config.set_floatx(dtype)
    keras.config.set_dtype_policy(dtype)


def labels(Y, shape):
    return Y.reshape(-1) if shape == "(m,)" else Y.reshape(-1, 1)


def assert_agree(what, nnlib_value, keras_value, tol, relative=True):
    """Fail with "nnlib vs keras" at the worst element unless |a - b| <= tol (+ tol * |b|)."""
    a = np.asarray(nnlib_value, dtype=np.float64)
    b = np.asarray(keras_value, dtype=np.float64)
    assert a.shape == b.shape, f"{what}: shape nnlib {a.shape} vs keras {b.shape}"
    excess = np.abs(a - b) - tol * (1 + np.abs(b) * relative)
    if a.size and excess.max() > 0:
        i = np.unravel_index(np.argmax(excess), a.shape)
        pytest.fail(
            f"{what}: nnlib {float(a[i])!r} vs keras {float(b[i])!r} at index "
            f"{tuple(map(int, i))}: "
            f"|difference| {abs(a[i] - b[i]):.3g} > tolerance {tol:g}"
            f"{' (relative)' if relative else ''}; {int((excess > 0).sum())} of {a.size} "
            f"values beyond it"
        )


def random_model(activation, dtype, rng, n_features=4, units=(6, 5, 3)):
    """A Dense stack with random (not Glorot) weights and nonzero biases."""
    model = nnlib.Sequential([nnlib.Input((n_features,))]
                             + [nnlib.Dense(u, activation=activation) for u in units],
                             dtype=dtype)
    model.set_weights([rng.normal(0.0, 1.0 if w.ndim == 2 else 0.5, w.shape)
                       for w in model.get_weights()])
    return model


# ------------------------------------------------------------------ the bridge


@pytest.mark.parametrize("dtype", DTYPES)
def test_bridge_round_trip_keeps_architecture_weights_and_compile(dtype):
    rng = np.random.default_rng(0)
    model = nnlib.Sequential([nnlib.Input((3,)), nnlib.Dense(4, "relu"), nnlib.Dense(5),
                              nnlib.Dense(2, "sigmoid")], seed=1, dtype=dtype)
    model.compile(loss=nnlib.BinaryCrossentropy(),
                  optimizer=nnlib.Adam(0.003, beta_1=0.8, beta_2=0.99, epsilon=1e-6))
    set_floatx(dtype)
    keras_model = to_keras(model)

    assert [type(layer).__name__ for layer in keras_model.layers] == ["Dense"] * 3
    assert [layer.units for layer in keras_model.layers] == [4, 5, 2]
    assert [keras.activations.serialize(layer.activation) for layer in keras_model.layers] \
        == ["relu", "linear", "sigmoid"]
    assert {layer.kernel.dtype for layer in keras_model.layers} == {dtype}
    for name, w, k in zip(PARAM_NAMES, model.get_weights(), keras_model.get_weights(),
                          strict=True):
        assert np.array_equal(w, k), f"{name}: nnlib {w} vs keras {k}"
    assert isinstance(keras_model.loss, keras.losses.BinaryCrossentropy)
    assert isinstance(keras_model.optimizer, keras.optimizers.Adam)
    config = keras_model.optimizer.get_config()
    assert (config["learning_rate"], config["beta_1"], config["beta_2"], config["epsilon"]) \
        == pytest.approx((0.003, 0.8, 0.99, 1e-6), rel=1e-7)

    back = from_keras(keras_model)
    assert [(layer.units, layer.activation) for layer in back.layers] \
        == [(4, "relu"), (5, "linear"), (2, "sigmoid")]
    assert back.dtype == np.dtype(dtype)
    for name, w, b in zip(PARAM_NAMES, model.get_weights(), back.get_weights(), strict=True):
        assert np.array_equal(w, b), f"{name}: before {w} vs after the round trip {b}"
    assert isinstance(back.loss, nnlib.BinaryCrossentropy)
    assert isinstance(back.optimizer, nnlib.Adam)
    assert (back.optimizer.learning_rate, back.optimizer.beta_1, back.optimizer.beta_2,
            back.optimizer.epsilon) == (0.003, 0.8, 0.99, 1e-6)
    X = rng.normal(size=(5, 3))
    assert np.array_equal(back.predict(X), model.predict(X))


def test_bridge_translates_sgd_rmsprop_and_mse_both_ways():
    set_floatx("float64")
    for optimizer in (nnlib.SGD(0.2, momentum=0.5), nnlib.RMSprop(0.01, rho=0.8, epsilon=1e-5)):
        model = nnlib.Sequential([nnlib.Input((2,)), nnlib.Dense(1)])
        model.compile(loss="mse", optimizer=optimizer)
        back = from_keras(to_keras(model))
        assert isinstance(back.loss, nnlib.MeanSquaredError)
        assert type(back.optimizer) is type(optimizer)
        hyperparameters = ["learning_rate", "momentum", "rho", "epsilon"]
        assert {k: getattr(back.optimizer, k) for k in hyperparameters if hasattr(optimizer, k)} \
            == {k: getattr(optimizer, k) for k in hyperparameters if hasattr(optimizer, k)}


def test_from_keras_takes_a_model_written_in_keras():
    keras_model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(3, "relu"),
                                    keras.layers.Dense(1)])
    keras_model.compile(loss="mse", optimizer="sgd")
    model = from_keras(keras_model)
    assert [(layer.units, layer.activation) for layer in model.layers] \
        == [(3, "relu"), (1, "linear")]
    assert model.dtype == np.float32
    assert isinstance(model.loss, nnlib.MeanSquaredError)
    assert isinstance(model.optimizer, nnlib.SGD)
    assert (model.optimizer.learning_rate, model.optimizer.momentum) == (0.01, 0.0)
    X = np.random.default_rng(4).normal(size=(8, 2)).astype("float32")
    assert_agree("predict with Keras's own initial weights", model.predict(X),
                 keras_model.predict(X, verbose=0), ONE_STEP_TOLERANCE["float32"])


def test_bridge_rejects_what_nnlib_cannot_express():
    unbuilt = nnlib.Sequential([nnlib.Dense(3)])
    with pytest.raises(ValueError, match="Input"):
        to_keras(unbuilt)

    tanh = keras.Sequential([keras.Input((2,)), keras.layers.Dense(3, activation="tanh")])
    with pytest.raises(ValueError, match="tanh"):
        from_keras(tanh)
    dropout = keras.Sequential([keras.Input((2,)), keras.layers.Dense(3),
                                keras.layers.Dropout(0.5)])
    with pytest.raises(ValueError, match="Dropout"):
        from_keras(dropout)
    no_bias = keras.Sequential([keras.Input((2,)), keras.layers.Dense(3, use_bias=False)])
    with pytest.raises(ValueError, match="use_bias"):
        from_keras(no_bias)
    mixed = keras.Sequential([keras.Input((2,)), keras.layers.Dense(3, dtype="mixed_float16")])
    with pytest.raises(ValueError, match="mixed_float16"):
        from_keras(mixed)

    float64_model = nnlib.Sequential([nnlib.Input((2,)), nnlib.Dense(1)], dtype="float64")
    float64_model.compile(loss="mse")
    set_floatx("float32")
    with pytest.raises(ValueError, match="floatx"):
        to_keras(float64_model)  # Keras would train it with a float32 learning rate and loss
    assert to_keras(float64_model, compile=False).layers[0].kernel.dtype == "float64"


def test_floatx_context_restores_the_previous_value_even_after_an_error():
    set_floatx("float32")
    with pytest.raises(RuntimeError), floatx("float64"):
        assert keras.config.floatx() == "float64"
        assert keras.layers.Dense(1).dtype_policy.name == "float64"
        raise RuntimeError
    assert keras.config.floatx() == "float32"
    assert keras.layers.Dense(1).dtype_policy.name == "float32"


def test_tensorflow_runs_with_onednn_off():
    # oneDNN reorders float additions; parity to the last bits needs it off, before the import
    tf = parity.tensorflow_module()
    assert os.environ["TF_ENABLE_ONEDNN_OPTS"] == "0", (
        "export TF_ENABLE_ONEDNN_OPTS=0 (the parity tests and the Makefile set it)")
    assert tf.__version__


# ------------------------------------------------------------------ forward pass


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_forward_pass_matches_keras(activation, dtype):
    rng = np.random.default_rng(1)
    set_floatx(dtype)
    model = random_model(activation, dtype, rng)
    X = rng.normal(0.0, 2.0, size=(64, 4)).astype(dtype)
    keras_model = to_keras(model, compile=False)
    nnlib_out = model.predict(X)
    keras_out = keras_model.predict(X, verbose=0)
    assert keras_out.dtype == np.dtype(dtype)
    assert_agree(f"predict, 3 x Dense({activation!r}), {dtype}", nnlib_out, keras_out,
                 ONE_STEP_TOLERANCE[dtype])
    if activation == "relu":  # the random weights exercise both sides of the kink
        assert 0 < np.mean(nnlib_out == 0) < 1


# ------------------------------------------------------------------ losses


@pytest.mark.parametrize("label_shape", LABEL_SHAPES)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("loss_name", ["binary_crossentropy", "mean_squared_error"])
def test_loss_on_ordinary_predictions(loss_name, dtype, label_shape):
    rng = np.random.default_rng(2)
    set_floatx(dtype)
    m = 50
    if loss_name == "binary_crossentropy":
        Y_hat = rng.uniform(0.02, 0.98, size=(m, 1)).astype(dtype)
        Y = rng.integers(0, 2, size=(m, 1)).astype(dtype)
    else:
        Y_hat = rng.normal(size=(m, 1)).astype(dtype)
        Y = rng.normal(size=(m, 1)).astype(dtype)
    Y = labels(Y, label_shape)
    ours = losses.get(loss_name)
    theirs = keras_loss(loss_name, dtype=dtype)
    per_example = keras_loss(loss_name, dtype=dtype, reduction=None)
    tol = ONE_STEP_TOLERANCE[dtype]
    assert_agree(f"{loss_name} cost, labels {label_shape}, {dtype}", ours(Y, Y_hat),
                 theirs(Y, Y_hat), tol)
    assert_agree(f"{loss_name} per example, labels {label_shape}, {dtype}",
                 ours.per_example(Y, Y_hat), per_example(Y, Y_hat), tol)


def one_unit_sigmoid_model(loss_name, dtype, Z):
    """Dense(1, 'sigmoid') with w = 1, b = 0, so that the logit of example i is Z[i]."""
    model = nnlib.Sequential([nnlib.Input((1,)), nnlib.Dense(1, "sigmoid")], dtype=dtype)
    model.set_weights([np.ones((1, 1)), np.zeros(1)])
    model.compile(loss=loss_name)
    return model, Z.reshape(-1, 1).astype(dtype)


@pytest.mark.parametrize("label_shape", LABEL_SHAPES)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("loss_name", ["binary_crossentropy", "mean_squared_error"])
def test_loss_on_saturated_logits(loss_name, dtype, label_shape):
    """|z| up to 50, where sigmoid(z) rounds to exactly 0 or 1: Keras takes BCE from z."""
    Z = np.concatenate([np.linspace(-50, 50, 21), [-40, -37, -17, 17, 37, 40]])
    Y = labels((np.arange(Z.size) % 2).astype(dtype), label_shape)  # half confidently wrong
    set_floatx(dtype)
    model, X = one_unit_sigmoid_model(loss_name, dtype, Z)
    keras_model = to_keras(model)
    tol = ONE_STEP_TOLERANCE[dtype]
    # the cost as training and evaluate compute it (Keras: compiled test step, batches of 32)
    assert_agree(f"evaluate, {loss_name}, |z| <= 50, labels {label_shape}, {dtype}",
                 model.evaluate(X, Y), keras_model.evaluate(X, Y, verbose=0), tol)
    # per example, from the sigmoid's output tensor (which carries its logit in Keras)
    per_example = keras_loss(loss_name, dtype=dtype, reduction=None)
    keras_values = np.asarray(per_example(Y, keras_model(X)))
    if loss_name == "binary_crossentropy":
        nnlib_values = losses.binary_crossentropy(Y, X, from_logits=True)
        # Not the clipped probabilities, which could never cost more than -log(1e-7) = 16.1:
        clip_ceiling = -np.log(losses.EPSILON)
        assert nnlib_values.max() > 2 * clip_ceiling and keras_values.max() > 2 * clip_ceiling
    else:
        nnlib_values = losses.mean_squared_error(Y, model.predict(X))
    assert_agree(f"{loss_name} per example, |z| <= 50, labels {label_shape}, {dtype}",
                 nnlib_values, keras_values, tol)


@pytest.mark.parametrize("label_shape", LABEL_SHAPES)
@pytest.mark.parametrize("dtype", DTYPES)
def test_bce_on_bare_probabilities_is_clipped_like_keras(dtype, label_shape):
    """Given probabilities (no logit), both clip to [1e-7, 1 - 1e-7]."""
    F = np.array([0.0, 1e-12, 1e-8, 1e-7, 3e-7, 0.3, 0.5, 1 - 3e-7, 1 - 1e-8, 1.0])
    Y_hat = np.concatenate([F, F]).reshape(-1, 1).astype(dtype)
    Y = labels(np.repeat([0.0, 1.0], F.size).astype(dtype), label_shape)
    set_floatx(dtype)
    tol = ONE_STEP_TOLERANCE[dtype]
    per_example = keras_loss("binary_crossentropy", dtype=dtype, reduction=None)
    nnlib_values = nnlib.BinaryCrossentropy().per_example(Y, Y_hat)
    assert np.isfinite(nnlib_values).all()
    assert_agree(f"BCE per example on probabilities, labels {label_shape}, {dtype}",
                 nnlib_values, per_example(Y, Y_hat), tol)
    assert_agree(f"BCE cost on probabilities, labels {label_shape}, {dtype}",
                 nnlib.BinaryCrossentropy()(Y, Y_hat),
                 keras_loss("binary_crossentropy", dtype=dtype)(Y, Y_hat), tol)


# ------------------------------------------------------------------ gradients


def saturate_output(model, X, z_max=50.0):
    """Scale the last layer so that the largest |logit| on X is z_max (sigmoid saturates)."""
    model._forward(X)
    scale = z_max / np.abs(model.layers[-1].Z).max()
    model.layers[-1].W *= scale
    model.layers[-1].b *= scale


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("network", [*NETWORKS, "relu, relu, sigmoid (saturated, |z| = 50)"])
def test_gradients_match_gradient_tape(network, dtype):
    saturated = network.endswith("(saturated, |z| = 50)")
    case = Case(network.removesuffix(" (saturated, |z| = 50)"), dtype=dtype, seed=3)
    X, Y = case.data()
    set_floatx(dtype)
    model = case.model()
    if saturated:
        saturate_output(model, X)
        model._forward(X)
        beyond = -np.abs(model.layers[-1].Z) < np.log(np.finfo(dtype).eps / 2)
        assert beyond.any(), "some sigmoid outputs should round to exactly 0 or 1"
    keras_model = to_keras(model)
    ours = nnlib_gradients(model, X, Y)
    theirs = keras_gradients(keras_model, keras_model.loss, X, Y)
    for name, g, k in zip(PARAM_NAMES, ours, theirs, strict=True):
        assert_agree(f"d cost / d {name}, {network}, {dtype}", g, k, ONE_STEP_TOLERANCE[dtype])
        assert np.abs(g).max() > 0, f"d cost / d {name} is zero: nothing compared"


# ------------------------------------------------------------------ whole training runs

TRAINING_CASES = [Case(network, optimizer, batch_size, dtype)
                  for dtype in DTYPES
                  for network in NETWORKS
                  for optimizer in OPTIMIZERS
                  for batch_size in (32, None)]


def disagreements(comparison):
    """What differs by more than the case's tolerance, as "nnlib vs keras" messages."""
    tol = comparison.case.tolerance
    problems = []
    n_nnlib, n_keras = len(comparison.nnlib.losses), len(comparison.keras.losses)
    if n_nnlib != n_keras:
        return [f"History length: nnlib {n_nnlib} vs keras {n_keras} epochs"]
    diff = comparison.loss_differences
    if diff.max() > tol:
        e = int(np.argmax(diff))
        problems.append(f"loss of epoch {e + 1}: nnlib {float(comparison.nnlib.losses[e])!r} vs "
                        f"keras {float(comparison.keras.losses[e])!r} (|difference| {diff[e]:.3g}; "
                        f"{int((diff > tol).sum())} epochs beyond {tol:g})")
    for name, a, b in zip(PARAM_NAMES, comparison.nnlib.weights, comparison.keras.weights,
                          strict=True):
        d = np.abs(a - b)
        if d.max() > tol:
            i = np.unravel_index(np.argmax(d), d.shape)
            problems.append(f"final {name}{list(map(int, i))}: nnlib {float(a[i])!r} vs keras "
                            f"{float(b[i])!r} "
                            f"(|difference| {d[i]:.3g} > {tol:g})")
    return problems


@pytest.mark.parametrize("case", TRAINING_CASES, ids=lambda case: case.name.replace(" ", ""))
def test_training_run_matches_keras(case):
    comparison = run_case(case)
    assert len(comparison.nnlib.losses) == case.epochs
    problems = disagreements(comparison)
    assert not problems, f"{case.name}, after {case.epochs} epochs:\n" + "\n".join(problems)
    # Not vacuous: the weights moved far more than the tolerance, and the loss went down.
    moved = max(np.abs(w - w0).max()
                for w, w0 in zip(comparison.nnlib.weights, comparison.initial_weights,
                                 strict=True))
    assert moved > 10 * case.tolerance, f"{case.name}: weights moved only {moved:.2g}"
    assert comparison.nnlib.losses[-1] < comparison.nnlib.losses[0]


@pytest.mark.parametrize("dtype", DTYPES)
def test_fit_on_arrays_takes_the_same_steps_as_the_dataset_the_other_tests_use(dtype):
    """Keras's fit(X, Y, batch_size=32, shuffle=False), labels of shape (m,): the same steps
    as the tf.data batches the training tests feed it, and the same as nnlib. (40 epochs:
    Keras's array input costs ~60 ms per epoch, which is why the other tests avoid it.)"""
    case = Case("relu, relu, sigmoid", "Adam", batch_size=32, dtype=dtype, epochs=40)
    X, Y = case.data()
    with floatx(dtype):
        runs = {}
        for keras_input in ("arrays", "dataset"):
            model = case.model()
            keras_model = compile_keras_twin(model, keras_optimizer(model.optimizer))
            runs[keras_input] = train_keras(keras_model, X, Y.reshape(-1), 32, case.epochs,
                                            keras_input)
        nnlib_run = train_nnlib(case.model(), X, Y.reshape(-1), 32, case.epochs)
    assert_agree("History, Keras arrays vs dataset", runs["arrays"].losses,
                 runs["dataset"].losses, 0.0)
    for name, a, b in zip(PARAM_NAMES, runs["arrays"].weights, runs["dataset"].weights,
                          strict=True):
        assert_agree(f"final {name}, Keras arrays vs dataset", a, b, 0.0)
    comparison = parity.Comparison(case, nnlib_run, runs["arrays"], initial_weights=[])
    problems = disagreements(comparison)
    assert not problems, f"{case.name}, Keras fed arrays:\n" + "\n".join(problems)


# ------------------------------------------------------------------ the tests can fail


class ExactMomentumSGD(nnlib.SGD):
    """nnlib's SGD before it rounded momentum to float32 as Keras does."""

    def _update(self, p, g, v=None):
        v *= self.momentum
        v -= self.learning_rate * g
        p += v


class EpsilonOutsideRMSprop(nnlib.RMSprop):
    """The textbook RMSprop, lr * g / (sqrt(v) + eps); Keras puts eps inside the root."""

    def _update(self, p, g, v):
        v[...] = self.rho * v + (1 - self.rho) * np.square(g)
        p -= self.learning_rate * g / (np.sqrt(v) + self.epsilon)


class ExactBetasAdam(nnlib.Adam):
    """Adam with beta**t from the exact betas; Keras rounds them to float32 first."""

    def step(self, params, grads):
        t = self.iterations + 1
        self._alpha = (self.learning_rate * np.sqrt(1 - self.beta_2 ** t)
                       / (1 - self.beta_1 ** t))
        nnlib.optimizers.Optimizer.step(self, params, grads)


MUTANTS = {
    "keras Adam beta_2=0.99, nnlib 0.999": ("Adam", None, lambda: keras.optimizers.Adam(
        learning_rate=OPTIMIZERS["Adam"][1]["learning_rate"], beta_2=0.99)),
    "nnlib momentum not rounded to float32": ("SGD momentum", lambda: ExactMomentumSGD(
        **OPTIMIZERS["SGD momentum"][1]), None),
    "nnlib RMSprop epsilon outside the root": ("RMSprop (default)", EpsilonOutsideRMSprop,
                                               None),
    "nnlib Adam betas not rounded to float32": ("Adam", lambda: ExactBetasAdam(
        **OPTIMIZERS["Adam"][1]), None),
}


@pytest.mark.parametrize("mutant", MUTANTS)
def test_a_deliberate_difference_breaks_the_float64_agreement(mutant):
    optimizer, nnlib_override, keras_override = MUTANTS[mutant]
    case = Case("relu, relu, sigmoid", optimizer, batch_size=32, dtype="float64")
    comparison = run_case(case, nnlib_optimizer_override=nnlib_override and nnlib_override(),
                          keras_optimizer_override=keras_override and keras_override())
    assert disagreements(comparison), (
        f"{mutant}: expected a difference beyond {case.tolerance:g}, but the largest loss "
        f"difference is {comparison.max_loss_difference:.3g} and the largest weight "
        f"difference {comparison.max_weight_difference:.3g}"
    )


def test_dropping_the_partial_last_batch_breaks_the_agreement():
    """Keras trained on 96 of the 100 examples, i.e. without the last partial batch of 4."""
    case = Case("sigmoid x3", "SGD", batch_size=32, dtype="float64")
    X, Y = case.data()
    with floatx(case.dtype):
        model = case.model()
        keras_model = compile_keras_twin(model, keras_optimizer(model.optimizer))
        keras_run = train_keras(keras_model, X[:96], Y[:96], 32, case.epochs)
        nnlib_run = train_nnlib(model, X, Y, 32, case.epochs)
    assert disagreements(parity.Comparison(case, nnlib_run, keras_run, initial_weights=[]))


# ------------------------------------------------------------------ the command


def test_nncourse_parity_prints_the_table_and_writes_the_figure(tmp_path):
    run = subprocess.run(
        [sys.executable, "-m", "nncourse.cli", "parity", "--epochs", "3", "--out",
         str(tmp_path / "out")],
        capture_output=True, text=True,
        env={k: os.environ[k] for k in ("PATH", "HOME") if k in os.environ},
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert run.stderr == "", f"TensorFlow (or anything) wrote to stderr:\n{run.stderr}"
    rows = [line for line in run.stdout.splitlines() if " | batch 32 | " in line]
    assert len(rows) == 4, run.stdout
    for row in rows:
        case, epochs, loss_diff, weight_diff, tolerance, *times = re.split(r"\s{2,}", row)
        assert epochs == "3", row
        assert float(loss_diff) <= float(tolerance) and float(weight_diff) <= float(tolerance), row
        assert len(times) == 2 and all(t.endswith(" s") for t in times), row
    png = tmp_path / "out" / "parity.png"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
