"""nnlib's API is Keras's, to the argument order: each test runs one program on both.

Every test body is written once and run with `lib` = nnlib and `lib` = the real Keras
(TensorFlow backend), so what it asserts is what Keras does, not what nnlib's author believed.
"""

import math
import types

import numpy as np
import pytest

import nnlib

pytestmark = pytest.mark.parity

M = 10  # examples: batches of 2 give 5 steps, the default 32 gives 1
X = np.random.default_rng(0).normal(size=(M, 2))
Y = (X[:, :1] > 0).astype(float)


def _nnlib():
    return types.SimpleNamespace(
        name="nnlib", Sequential=nnlib.Sequential, Dense=nnlib.Dense, Input=nnlib.Input,
        SGD=nnlib.SGD, RMSprop=nnlib.RMSprop, Adam=nnlib.Adam, BCE=nnlib.BinaryCrossentropy)


def _keras():
    from nncourse.keras_bridge import keras_module  # imports TensorFlow quietly, on first use

    keras = keras_module()
    return types.SimpleNamespace(
        name="keras", Sequential=keras.Sequential, Dense=keras.layers.Dense, Input=keras.Input,
        SGD=keras.optimizers.SGD, RMSprop=keras.optimizers.RMSprop, Adam=keras.optimizers.Adam,
        BCE=keras.losses.BinaryCrossentropy)


@pytest.fixture(params=["nnlib", "keras"])
def lib(request):
    return _nnlib() if request.param == "nnlib" else _keras()


def network(lib, units=3):
    return lib.Sequential([lib.Input(shape=(2,)), lib.Dense(units, activation="relu"),
                           lib.Dense(1, activation="sigmoid")])


def steps(model):
    """How many gradient steps the model's optimizer has taken (Keras's `iterations`)."""
    return int(np.asarray(model.optimizer.iterations))


def test_fit_takes_batch_size_before_epochs(lib):
    model = network(lib)
    model.compile(lib.SGD(0.1), lib.BCE())
    history = model.fit(X, Y, 2, 1, 0)  # batch_size=2, epochs=1, verbose=0
    assert len(history.history["loss"]) == 1
    assert steps(model) == math.ceil(M / 2) == 5


def test_fit_defaults_to_one_epoch_of_batches_of_32(lib):
    model = network(lib)
    model.compile(loss=lib.BCE())
    history = model.fit(X, Y, verbose=0)
    assert len(history.history["loss"]) == 1
    assert steps(model) == math.ceil(M / 32) == 1


def test_compile_takes_the_optimizer_first_and_defaults_to_rmsprop(lib):
    model = network(lib)
    model.compile(lib.SGD(0.25), lib.BCE())
    assert isinstance(model.optimizer, lib.SGD)
    assert float(np.asarray(model.optimizer.learning_rate)) == 0.25
    default = network(lib)
    default.compile(loss=lib.BCE())
    assert isinstance(default.optimizer, lib.RMSprop)
    assert float(np.asarray(default.optimizer.learning_rate)) == pytest.approx(0.001)


def test_an_optimizer_cannot_train_a_second_model(lib):
    # Same shapes on purpose: nnlib used to share Adam's moments between such models silently.
    optimizer = lib.Adam(0.01)
    first, second = network(lib), network(lib)
    first.compile(optimizer, lib.BCE())
    second.compile(optimizer, lib.BCE())
    first.fit(X, Y, 2, 1, 0)
    before = [w.copy() for w in second.get_weights()]
    with pytest.raises(ValueError) as refused:
        second.fit(X, Y, 2, 1, 0)
    assert all(np.array_equal(a, b) for a, b in zip(before, second.get_weights(), strict=True))
    if lib.name == "nnlib":
        assert "already trains another model's weights" in str(refused.value)
        assert "Give the second model a new optimizer" in str(refused.value)


def test_learning_rate_zero_is_accepted_and_changes_nothing(lib):
    model = network(lib)
    model.compile(lib.SGD(0.0), lib.BCE())
    before = [w.copy() for w in model.get_weights()]
    history = model.fit(X, Y, 2, 3, 0)
    assert len(history.history["loss"]) == 3
    assert steps(model) == 15
    assert all(np.array_equal(a, b) for a, b in zip(before, model.get_weights(), strict=True))


def test_a_numpy_float64_learning_rate_is_accepted(lib):
    # np.float64 is a Python float; nnlib also takes np.float32, which Keras 3.15 refuses.
    assert float(np.asarray(lib.SGD(np.float64(0.5)).learning_rate)) == 0.5


def test_predict_and_evaluate_take_batch_size_then_verbose(lib, capsys):
    model = network(lib)
    model.compile(lib.SGD(0.1), lib.BCE())
    weights = _nnlib_weights()
    model.set_weights([w.astype(model.get_weights()[0].dtype) for w in weights])
    y_hat = model.predict(X, 3, 0)
    loss = model.evaluate(X, Y, 4, 0)
    assert capsys.readouterr().out == ""  # verbose=0: quiet in both
    reference = nnlib.Sequential([nnlib.Dense(3, "relu"), nnlib.Dense(1, "sigmoid")])
    reference.compile(loss=nnlib.BinaryCrossentropy())
    reference.set_weights(weights)
    # Keras computes in float32 by default: agree to float32's precision
    np.testing.assert_allclose(y_hat, reference.predict(X, verbose=0), rtol=1e-5)
    assert float(loss) == pytest.approx(reference.evaluate(X, Y, verbose=0), rel=1e-5)


def _nnlib_weights():
    rng = np.random.default_rng(1)
    return [rng.normal(size=(2, 3)), rng.normal(size=3), rng.normal(size=(3, 1)),
            rng.normal(size=1)]
