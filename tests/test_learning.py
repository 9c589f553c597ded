"""fit learns: the cost falls on every data set, and only a nonlinear network solves XOR."""

import numpy as np
import pytest

from nnlib import Adam, BinaryCrossentropy, Dense, MeanSquaredError, Sequential, datasets


def accuracy(model, X, Y):
    return float(np.mean((model.predict(X) > 0.5) == Y))


@pytest.mark.parametrize("make_data, output, loss", [
    (datasets.coffee_roasting, "sigmoid", BinaryCrossentropy()),
    (datasets.xor, "sigmoid", BinaryCrossentropy()),
    (datasets.circles, "sigmoid", BinaryCrossentropy()),
    (datasets.regression_signed, "linear", MeanSquaredError()),
    (datasets.regression_nonnegative, "relu", MeanSquaredError()),
])
def test_fit_lowers_the_cost(make_data, output, loss):
    X, Y = make_data(m=200, seed=1)
    model = Sequential([Dense(25, "relu"), Dense(15, "relu"), Dense(1, output)], seed=0)
    model.compile(optimizer=Adam(0.01), loss=loss)
    before = model.evaluate(X, Y)
    history = model.fit(X, Y, epochs=60, verbose=0)
    after = model.evaluate(X, Y)
    assert after < 0.5 * before, f"cost {before:.4f} -> {after:.4f}"
    assert history.history["loss"][-1] < history.history["loss"][0]


def test_the_seed_network_learns_the_coffee_data():
    X, Y = datasets.coffee_roasting(m=200)
    model = Sequential([Dense(25, "sigmoid"), Dense(15, "sigmoid"), Dense(1, "sigmoid")], seed=0)
    model.compile(optimizer=Adam(0.01), loss=BinaryCrossentropy())
    model.fit(X, Y, epochs=100, verbose=0)
    assert accuracy(model, X, Y) > 0.9


def test_a_relu_network_learns_xor_perfectly():
    X, Y = datasets.xor(m=200)
    model = Sequential([Dense(8, "relu"), Dense(1, "sigmoid")], seed=0)
    model.compile(optimizer=Adam(0.05), loss=BinaryCrossentropy())
    model.fit(X, Y, epochs=200, verbose=0)
    assert accuracy(model, X, Y) == 1.0


@pytest.mark.parametrize("hidden_layers", [1, 2])
def test_a_linear_network_cannot_learn_xor(hidden_layers):
    """Linear hidden layers + sigmoid output is logistic regression: one straight line.

    The best a line can do on four XOR clusters is 3 of 4 clusters right: 75%.
    """
    X, Y = datasets.xor(m=200)
    layers = [Dense(8, "linear") for _ in range(hidden_layers)] + [Dense(1, "sigmoid")]
    model = Sequential(layers, seed=0)
    model.compile(optimizer=Adam(0.05), loss=BinaryCrossentropy())
    model.fit(X, Y, epochs=200, verbose=0)
    assert accuracy(model, X, Y) <= 0.75
