"""Parity with the real TensorFlow/Keras: nnlib computes the same network, step for step.

Run alone with `pytest -m parity`. Every expected value here is computed by Keras at test time;
nothing is copied from a previous run. Tolerances: float64 1e-12 for one forward pass, loss or
gradient and 1e-9 after 100 epochs of training; float32 1e-6 and 1e-4.
"""

import itertools
import os
import re
import subprocess
import sys

import numpy as np
import pytest

import nnlib
from nncourse import cli, parity
from nncourse.keras_bridge import (
    floatx,
    from_keras,
    keras_loss,
    keras_module,
    keras_optimizer,
    tensorflow_module,
    to_keras,
)
from nncourse.parity import (
    NETWORKS,
    OPTIMIZERS,
    Case,
    compile_keras_twin,
    keras_gradients,
    nnlib_optimizer,
    run_case,
    train_keras,
    train_nnlib,
)
from nnlib import activations, losses, optimizers

pytestmark = pytest.mark.parity


class _Keras:
    """`keras`, imported on first use: collecting (or deselecting) these tests costs nothing.
    keras_module() sets TF_ENABLE_ONEDNN_OPTS=0 and TF_CPP_MIN_LOG_LEVEL=3 before the import."""

    def __getattr__(self, name):
        return getattr(keras_module(), name)


keras = _Keras()
ONE_STEP_TOLERANCE = {"float64": 1e-12, "float32": 1e-6}
DTYPES = ["float64", "float32"]
ACTIVATIONS = list(activations.ACTIVATIONS)  # every name nnlib accepts
LOSSES = list(losses.LOSSES)
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
    model.compile(optimizer=nnlib.Adam(0.003, beta_1=0.8, beta_2=0.99, epsilon=1e-6),
                  loss=nnlib.BinaryCrossentropy())
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
        model.compile(optimizer=optimizer, loss="mse")
        back = from_keras(to_keras(model))
        assert isinstance(back.loss, nnlib.MeanSquaredError)
        assert type(back.optimizer) is type(optimizer)
        hyperparameters = ["learning_rate", "momentum", "rho", "epsilon"]
        assert {k: getattr(back.optimizer, k) for k in hyperparameters if hasattr(optimizer, k)} \
            == {k: getattr(optimizer, k) for k in hyperparameters if hasattr(optimizer, k)}


def test_from_keras_takes_a_model_written_in_keras():
    keras_model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(3, "relu"),
                                    keras.layers.Dense(1)])
    keras_model.compile(optimizer="sgd", loss="mse")
    model = from_keras(keras_model)
    assert [(layer.units, layer.activation) for layer in model.layers] \
        == [(3, "relu"), (1, "linear")]
    assert model.dtype == np.float32
    assert isinstance(model.loss, nnlib.MeanSquaredError)
    assert isinstance(model.optimizer, nnlib.SGD)
    assert (model.optimizer.learning_rate, model.optimizer.momentum) == (0.01, 0.0)
    X = np.random.default_rng(4).normal(size=(8, 2)).astype("float32")
    assert_agree("predict with Keras's own initial weights", model.predict(X, verbose=0),
                 keras_model.predict(X, verbose=0), ONE_STEP_TOLERANCE["float32"])


def test_bridge_rejects_what_nnlib_cannot_express():
    unbuilt = nnlib.Sequential([nnlib.Dense(3)])
    with pytest.raises(ValueError, match="Input"):
        to_keras(unbuilt)

    # a real Keras activation that nnlib's registry lacks (if nnlib ever adds tanh, the next)
    missing = next(name for name in ("tanh", "elu", "softplus", "softsign")
                   if name not in ACTIVATIONS)
    unknown = keras.Sequential([keras.Input((2,)), keras.layers.Dense(3, activation=missing)])
    with pytest.raises(ValueError, match=missing):
        from_keras(unknown)
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
    tf = tensorflow_module()
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
    nnlib_out, keras_out = (m.predict(X, verbose=0) for m in (model, keras_model))
    assert keras_out.dtype == np.dtype(dtype)
    assert_agree(f"predict, 3 x Dense({activation!r}), {dtype}", nnlib_out, keras_out,
                 ONE_STEP_TOLERANCE[dtype])
    if activation == "relu":  # the random weights exercise both sides of the kink
        assert 0 < np.mean(nnlib_out == 0) < 1


# ------------------------------------------------------------------ losses


@pytest.mark.parametrize("label_shape", LABEL_SHAPES)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("loss_name", LOSSES)
def test_loss_on_ordinary_predictions(loss_name, dtype, label_shape):
    rng = np.random.default_rng(2)
    set_floatx(dtype)
    m = 50
    if is_bce(loss_name):
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


def is_bce(loss_name):
    return isinstance(losses.get(loss_name), losses.BinaryCrossentropy)


def one_unit_sigmoid_model(loss_name, dtype, Z):
    """Dense(1, 'sigmoid') with w = 1, b = 0, so that the logit of example i is Z[i]."""
    model = nnlib.Sequential([nnlib.Input((1,)), nnlib.Dense(1, "sigmoid")], dtype=dtype)
    model.set_weights([np.ones((1, 1)), np.zeros(1)])
    model.compile(loss=loss_name)
    return model, Z.reshape(-1, 1).astype(dtype)


@pytest.mark.parametrize("label_shape", LABEL_SHAPES)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("loss_name", LOSSES)
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
                 *(m.evaluate(X, Y, verbose=0) for m in (model, keras_model)), tol)
    # per example, from the sigmoid's output tensor (which carries its logit in Keras)
    per_example = keras_loss(loss_name, dtype=dtype, reduction=None)
    keras_values = np.asarray(per_example(Y, keras_model(X)))
    if is_bce(loss_name):
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


def output_logits(model, X):
    """z of the last layer on X, (m, units): the same weights in a copy whose last
    activation is linear, so that predict returns z instead of g(z)."""
    *hidden, last = model.layers
    copy = nnlib.Sequential([nnlib.Input((model.n_features,))]
                            + [nnlib.Dense(layer.units, activation=layer.activation)
                               for layer in hidden]
                            + [nnlib.Dense(last.units, activation="linear")], dtype=model.dtype)
    copy.set_weights(model.get_weights())
    return copy.predict(X)


def saturate_output(model, X, z_max=50.0):
    """Scale the last layer's W and b so that the largest |logit| on X is z_max."""
    scale = z_max / np.abs(output_logits(model, X)).max()
    weights = model.get_weights()
    model.set_weights(weights[:-2] + [w * scale for w in weights[-2:]])


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
        beyond = -np.abs(output_logits(model, X)) < np.log(np.finfo(dtype).eps / 2)
        assert beyond.any(), "some sigmoid outputs should round to exactly 0 or 1"
    keras_model = to_keras(model)
    cost, ours = model.compute_gradients(X, Y)
    keras_cost, theirs = keras_gradients(keras_model, X, Y)
    tol = ONE_STEP_TOLERANCE[dtype]
    assert_agree(f"cost, {network}, {dtype}", cost, keras_cost, tol)
    for name, g, k in zip(PARAM_NAMES, ours, theirs, strict=True):
        assert_agree(f"d cost / d {name}, {network}, {dtype}", g, k, tol)
        assert np.abs(g).max() > 0, f"d cost / d {name} is zero: nothing compared"


# ------------------------------------------------------------------ whole training runs

# A pairwise covering design, not all 3 x 4 x 2 x 2 = 48 combinations: every level of every
# factor, and every pair of levels of any two factors, occurs in at least one case. The rows
# are the 12 pairs network x optimizer (the two largest factors, so 12 is the minimum); with
# i the optimizer's and j the network's index, batch is (32, full)[(i + j) % 2] and dtype
# (float64, float32)[(i // 2 + j) % 2], which gives each optimizer and each network both
# batch modes and both dtypes, and all four batch x dtype pairs.
# test_training_cases_cover_every_pair_of_levels checks it.
FULL = None  # batch_size=None: full batch, one step per epoch
TRAINING_FACTORS = {
    "network": list(NETWORKS),
    "optimizer": list(OPTIMIZERS),
    "batch_size": [32, FULL],
    "dtype": DTYPES,
}
TRAINING_CASES = [Case(*row) for row in [
    # network              optimizer            batch  dtype
    ("sigmoid x3",          "SGD",               32,    "float64"),
    ("relu, relu, sigmoid", "SGD",               FULL,  "float32"),
    ("regression",          "SGD",               32,    "float64"),
    ("sigmoid x3",          "SGD momentum",      FULL,  "float64"),
    ("relu, relu, sigmoid", "SGD momentum",      32,    "float32"),
    ("regression",          "SGD momentum",      FULL,  "float64"),
    ("sigmoid x3",          "RMSprop (default)", 32,    "float32"),
    ("relu, relu, sigmoid", "RMSprop (default)", FULL,  "float64"),
    ("regression",          "RMSprop (default)", 32,    "float32"),
    ("sigmoid x3",          "Adam",              FULL,  "float32"),
    ("relu, relu, sigmoid", "Adam",              32,    "float64"),
    ("regression",          "Adam",              FULL,  "float32"),
]]


def test_training_cases_cover_every_pair_of_levels():
    """For any two factors (network, optimizer, batch_size, dtype), every pair of their
    levels is some case's: drop a case of the 12 and a pair goes missing."""
    for a, b in itertools.combinations(TRAINING_FACTORS, 2):
        present = {(getattr(case, a), getattr(case, b)) for case in TRAINING_CASES}
        missing = set(itertools.product(TRAINING_FACTORS[a], TRAINING_FACTORS[b])) - present
        assert not missing, f"no training case has ({a}, {b}) = {sorted(missing, key=str)}"


def test_training_cases_use_every_registered_activation_loss_and_optimizer():
    """The networks and optimizers of the grid span nnlib's registries: a new activation,
    loss or optimizer in nnlib fails here until a parity case trains it."""
    used = {name for hidden, output, _, _ in NETWORKS.values() for name in (hidden, output)}
    assert used == set(activations.ACTIVATIONS)
    used = {type(losses.get(loss)) for _, _, loss, _ in NETWORKS.values()}
    assert used == set(losses.LOSSES.values())
    used = {type(optimizers.get(nnlib_optimizer(name))) for name in OPTIMIZERS}
    assert used == set(optimizers.OPTIMIZERS.values())


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


class Mutant:
    """An nnlib optimizer with its own update rule, one detail away from Keras's.

    It overrides the public `step(params, grads)` that fit calls and keeps its own state
    (`slots`: n_slots zero arrays per parameter, made on the first step), so it depends on
    nothing private in nnlib.optimizers. The hyperparameters are the nnlib class's.
    """

    n_slots = 1

    def step(self, params, grads):
        if self.iterations == 0:
            self.slots = [[np.zeros_like(p) for _ in range(self.n_slots)] for p in params]
        self.iterations += 1
        for p, g, slots in zip(params, grads, self.slots, strict=True):
            self.update(p, g, *slots)


class ExactMomentumSGD(Mutant, nnlib.SGD):
    """SGD with momentum as written, v = momentum * v - lr * g; w += v: Keras (and nnlib)
    multiply by momentum rounded to float32."""

    def update(self, p, g, v):
        v *= self.momentum
        v -= self.learning_rate * g
        p += v


class EpsilonOutsideRMSprop(Mutant, nnlib.RMSprop):
    """The textbook RMSprop, lr * g / (sqrt(v) + eps); Keras puts eps inside the root."""

    def update(self, p, g, v):
        v[...] = self.rho * v + (1 - self.rho) * np.square(g)
        p -= self.learning_rate * g / (np.sqrt(v) + self.epsilon)


class ExactBetasAdam(Mutant, nnlib.Adam):
    """Adam with beta**t from the exact betas; Keras rounds them to float32 first."""

    n_slots = 2

    def update(self, p, g, m, v):
        t = self.iterations
        alpha = self.learning_rate * np.sqrt(1 - self.beta_2 ** t) / (1 - self.beta_1 ** t)
        m += (g - m) * (1 - self.beta_1)
        v += (np.square(g) - v) * (1 - self.beta_2)
        p -= alpha * m / (np.sqrt(v) + self.epsilon)


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


def test_nncourse_parity_prints_the_table_and_writes_the_figure(tmp_path, capfd):
    exit_code = cli.main(["parity", "--epochs", "3", "--out", str(tmp_path / "out")])
    out, err = capfd.readouterr()
    assert exit_code == 0, out + err
    assert err == "", f"TensorFlow (or anything) wrote to stderr:\n{err}"
    rows = [line for line in out.splitlines() if " | batch 32 | " in line]
    assert len(rows) == 4, out
    for row in rows:
        case, epochs, loss_diff, weight_diff, tolerance, *times = re.split(r"\s{2,}", row)
        assert epochs == "3", row
        assert float(loss_diff) <= float(tolerance) and float(weight_diff) <= float(tolerance), row
        assert len(times) == 2 and all(t.endswith(" s") for t in times), row
    png = tmp_path / "out" / "parity.png"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_tensorflow_starts_quietly_in_a_fresh_process():
    """Only a fresh process can show what importing TensorFlow writes to stderr (here it is
    imported already): keras_module must set the environment and silence the start-up."""
    code = ("from nncourse.keras_bridge import tensorflow_module; import os; "
            "tensorflow_module(); print(os.environ['TF_ENABLE_ONEDNN_OPTS'])")
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env={k: os.environ[k] for k in ("PATH", "HOME") if k in os.environ})
    assert run.returncode == 0, run.stderr
    assert run.stderr == "", f"TensorFlow (or anything) wrote to stderr:\n{run.stderr}"
    assert run.stdout == "0\n"
