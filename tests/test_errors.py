"""Bad input gets a clear error naming what was wrong and what was expected."""

import re

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from nnlib import SGD, Adam, BinaryCrossentropy, Dense, Input, MeanSquaredError, RMSprop, Sequential
from nnlib.activations import ACTIVATIONS
from nnlib.gradcheck import gradcheck
from nnlib.losses import LOSSES
from nnlib.optimizers import OPTIMIZERS


def compiled(loss="binary_crossentropy", n_features=2, units=1):
    model = Sequential([Input((n_features,)), Dense(4, "relu"), Dense(units, "sigmoid")], seed=0)
    model.compile(optimizer=SGD(), loss=loss)
    return model


X = np.zeros((5, 2))
Y = np.array([[0.0], [1.0], [1.0], [0.0], [1.0]])


def test_wrong_number_of_features():
    with pytest.raises(ValueError, match=r"X has 3 features .* expects 2: X must have shape "
                                         r"\(m, 2\)\. Received: X.shape=\(5, 3\)"):
        compiled().fit(np.zeros((5, 3)), Y, verbose=0)
    with pytest.raises(ValueError, match="X has 3 features"):
        compiled().predict(np.zeros((5, 3)))


def test_one_dimensional_X_gets_a_hint():
    with pytest.raises(ValueError, match=r"X must be 2-D.*X.shape=\(5,\).*reshape\(-1, 1\)"):
        compiled(n_features=1).predict(np.zeros(5))


def test_X_and_Y_of_different_lengths():
    with pytest.raises(ValueError, match="same number of examples m. Received: 5 rows in X and "
                                         "4 in Y"):
        compiled().fit(X, Y[:4], verbose=0)


def test_Y_of_the_wrong_width():
    with pytest.raises(ValueError,
                       match=r"Y must have shape \(m, 1\).*or \(m,\).*Y.shape=\(5, 2\)"):
        compiled().fit(X, np.zeros((5, 2)), verbose=0)


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_nan_or_inf_in_inputs(bad):
    X_bad = X.copy()
    X_bad[3, 1] = bad
    with pytest.raises(ValueError, match=r"X contains NaN or inf \(first rows: \[3\]\)"):
        compiled().fit(X_bad, Y, verbose=0)
    Y_bad = Y.copy()
    Y_bad[1, 0] = bad
    with pytest.raises(ValueError, match=r"Y contains NaN or inf \(first rows: \[1\]\)"):
        compiled().fit(X, Y_bad, verbose=0)


def test_bce_labels_outside_zero_one():
    with pytest.raises(ValueError, match=r"labels in \[0, 1\]. Received labels from -1 to 2"):
        compiled().fit(X, np.array([0, 1, 2, -1, 1]), verbose=0)
    # MSE accepts any real target
    compiled(loss=MeanSquaredError()).fit(X, np.array([0, 1, 2, -1, 1]), verbose=0)


def test_non_numeric_input():
    with pytest.raises(ValueError, match="X must be an array of numbers"):
        compiled().predict([["a", "b"]])


def test_missing_input_is_named_not_called_nan():
    with pytest.raises(ValueError, match=r"X must be an array of numbers. Received: X=None"):
        compiled().predict(None)
    with pytest.raises(ValueError, match=r"Y must be an array of numbers. Received: Y=None"):
        compiled().evaluate(X, None)


@pytest.mark.parametrize("shape", [3, None, (), "3"])
def test_build_needs_a_shape_tuple(shape):
    with pytest.raises(ValueError, match=r"input_shape must be \(None, n_features\) with "
                                         rf"n_features >= 1. Received: input_shape={shape!r}"):
        Sequential([Dense(1)]).build(shape)


@pytest.mark.parametrize("units", [0, -3, 2.5, True, "25"])
def test_units_must_be_a_positive_integer(units):
    with pytest.raises(ValueError, match=f"units must be a positive integer. Received: "
                                         f"units={units!r}"):
        Dense(units)


def test_unknown_names_list_the_valid_ones():
    # typos of real names: the lists come from the registries, whatever they hold
    with pytest.raises(ValueError, match=re.escape(f"Expected one of {sorted(ACTIVATIONS)}")
                       + ".*activation='sigmod'"):
        Dense(3, activation="sigmod")
    with pytest.raises(ValueError, match=re.escape(str(sorted(LOSSES))) + ".*loss='mean_sq'"):
        Sequential([Dense(1)]).compile(loss="mean_sq")
    with pytest.raises(ValueError, match=re.escape(str(sorted(OPTIMIZERS)))
                       + ".*optimizer='adm'"):
        Sequential([Dense(1)]).compile(optimizer="adm", loss="mse")


def test_fit_and_evaluate_before_compile():
    model = Sequential([Dense(1, "sigmoid")])
    for method in ("fit", "evaluate", "compute_gradients"):
        with pytest.raises(RuntimeError, match=rf"call compile\(\) before {method}\(\)"):
            getattr(model, method)(X, Y)


def test_compile_without_a_loss_is_refused_when_training():
    model = Sequential([Dense(1, "sigmoid")])
    model.compile(optimizer="sgd")  # as in Keras: accepted, but there is nothing to minimise
    with pytest.raises(ValueError, match=r"fit\(\) needs a loss, and compile\(\) was given "
                                         r"none \(loss=None\)"):
        model.fit(X, Y, verbose=0)


def test_a_loss_given_where_the_optimizer_goes_is_explained():
    # compile(BinaryCrossentropy()) was nnlib's old order; Keras reads it as the optimizer.
    with pytest.raises(ValueError, match=r"compile's first argument is the optimizer, as in "
                                         r"Keras.*Received: optimizer=BinaryCrossentropy\("):
        Sequential([Dense(1)]).compile(BinaryCrossentropy())


def test_gradcheck_on_an_uncompiled_model():
    model = Sequential([Dense(1, "sigmoid")], seed=0)
    with pytest.raises(ValueError, match=r"gradcheck needs a model compiled with a loss.*"
                                         r"Received: model=.* with loss=None"):
        gradcheck(model, X, Y)


@pytest.mark.parametrize("kwargs, message", [
    ({"epochs": -1}, "epochs must be an integer >= 0. Received: epochs=-1"),
    ({"epochs": 2.5}, "epochs must be an integer >= 0. Received: epochs=2.5"),
    ({"batch_size": 0}, "batch_size must be an integer >= 1. Received: batch_size=0"),
    ({"verbose": 3}, 'verbose must be "auto", 0, 1 or 2. Received: verbose=3'),
])
def test_fit_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        compiled().fit(X, Y, **{"verbose": 0, **kwargs})


@pytest.mark.parametrize("rate", ["fast", True, None, np.nan, np.inf, [0.1]])
def test_learning_rate_must_be_a_finite_number(rate):
    for optimizer in (SGD, RMSprop, Adam):
        with pytest.raises(ValueError, match=rf"learning_rate must be a finite number. "
                                             rf"Received: learning_rate={re.escape(repr(rate))}"):
            optimizer(rate)


@pytest.mark.parametrize("rate", [0, 0.0, np.float32(0.01), np.float64(0.5), np.int64(1)])
def test_learning_rate_zero_and_numpy_scalars_are_accepted(rate):
    assert SGD(rate).learning_rate == float(rate)
    assert type(SGD(rate).learning_rate) is float  # so that float32 weights stay float32


@pytest.mark.parametrize("make, message", [
    (lambda: SGD(momentum="x"), "momentum must be a number in [0, 1]. Received: momentum='x'"),
    (lambda: SGD(momentum=1.5), "momentum must be a number in [0, 1]. Received: momentum=1.5"),
    (lambda: RMSprop(rho=-0.1), "rho must be a number in [0, 1]. Received: rho=-0.1"),
    (lambda: Adam(beta_2=2), "beta_2 must be a number in [0, 1]. Received: beta_2=2"),
    (lambda: Adam(epsilon=-1e-7), "epsilon must be a number >= 0. Received: epsilon=-1e-07"),
])
def test_other_optimizer_arguments(make, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        make()


def test_set_weights_names_expected_shapes():
    model = compiled()
    with pytest.raises(ValueError, match=r"expects 4 arrays of shapes \[\(2, 4\), \(4,\), "
                                         r"\(4, 1\), \(1,\)\]. Received 2 arrays"):
        model.set_weights([np.zeros((2, 4)), np.zeros(4)])


def test_input_must_come_first_and_no_empty_model():
    with pytest.raises(ValueError, match="Input.*only be the first element"):
        Sequential([Dense(3), Input((2,))])
    with pytest.raises(ValueError, match="no layers"):
        Sequential().predict(X)
    with pytest.raises(ValueError, match="X has no examples"):
        compiled().predict(np.zeros((0, 2)))


def test_no_raw_numpy_error_for_mismatched_bce_shapes():
    with pytest.raises(ValueError, match="same shape"):
        BinaryCrossentropy()(np.zeros((4, 1)), np.zeros((3, 1)))


@given(m=st.integers(1, 40), n=st.integers(1, 5), widths=st.lists(st.integers(1, 6), min_size=1,
                                                                   max_size=3))
def test_shapes_of_predictions_weights_and_gradients(m, n, widths):
    model = Sequential([Dense(u, "relu") for u in widths], seed=0)
    model.compile(optimizer=SGD(), loss="mse")
    rng = np.random.default_rng(m)
    Xr, Yr = rng.normal(size=(m, n)), rng.normal(size=(m, widths[-1]))
    assert model.predict(Xr).shape == (m, widths[-1])
    shapes = [w.shape for w in model.get_weights()]
    n_in = [n, *widths[:-1]]
    assert shapes == [s for i, u in zip(n_in, widths, strict=True) for s in ((i, u), (u,))]
    history = model.fit(Xr, Yr, batch_size=7, epochs=2, verbose=0)
    assert len(history.history["loss"]) == 2
    assert all(layer.dW.shape == layer.W.shape for layer in model.layers)


def test_an_optimizer_shared_by_two_models_is_refused_before_any_step():
    # Different shapes: this used to end in a NumPy broadcasting error in the middle of fit.
    optimizer = SGD(0.1, momentum=0.9)
    small, large = compiled(), Sequential([Dense(8, "relu"), Dense(1, "sigmoid")], seed=0)
    small.compile(optimizer=optimizer, loss="binary_crossentropy")
    large.compile(optimizer=optimizer, loss="binary_crossentropy")
    small.fit(X, Y, verbose=0)
    with pytest.raises(ValueError, match=r"This SGD optimizer already trains another model's "
                                         r"weights.*Received: weights of shapes \[\(2, 8\), "
                                         r"\(8,\), \(8, 1\), \(1,\)\]; built for \[\(2, 4\)"):
        large.fit(X, Y, verbose=0)
    assert optimizer.iterations == 1  # the refused fit took no step


def test_one_model_can_go_on_training_with_its_optimizer():
    model = compiled()
    model.fit(X, Y, batch_size=2, epochs=1, verbose=0)
    model.fit(X, Y, batch_size=2, epochs=1, verbose=0)
    assert model.optimizer.iterations == 6  # 3 steps per epoch, twice
