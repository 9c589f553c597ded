"""Training: what an epoch is, what History records, and that fit really learns."""

import numpy as np
import pytest

from nnlib import SGD, Adam, BinaryCrossentropy, Dense, Input, MeanSquaredError, RMSprop, Sequential
from nnlib.optimizers import get as get_optimizer


def _logistic_data(m, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(m, 2))
    Y = (X[:, :1] + 0.5 * X[:, 1:] > 0).astype(float)
    return X, Y


def _by_hand_logistic_sgd(X, Y, W, b, learning_rate, batch_size, epochs):
    """Mini-batch SGD for one sigmoid unit with BCE, written out independently of nnlib."""
    W, b, history = W.copy(), b.copy(), []
    for _ in range(epochs):
        weighted = 0.0
        for s in range(0, len(X), batch_size):
            Xb, Yb = X[s:s + batch_size], Y[s:s + batch_size]
            z = Xb @ W + b
            f = 1 / (1 + np.exp(-z))
            weighted += len(Xb) * np.mean(-(Yb * np.log(f) + (1 - Yb) * np.log(1 - f)))
            dz = (f - Yb) / len(Xb)
            W -= learning_rate * Xb.T @ dz
            b -= learning_rate * dz.sum(axis=0)
        history.append(weighted / len(X))
    return W, b, history


@pytest.mark.parametrize("m, batch_size", [(70, 32), (64, 32), (70, 70), (70, 1000)])
def test_fit_equals_minibatch_sgd_by_hand(m, batch_size):
    """Partial last batch kept; history = size-weighted mean of pre-update batch losses."""
    X, Y = _logistic_data(m)
    model = Sequential([Dense(1, "sigmoid")], seed=0)
    model.compile(optimizer=SGD(learning_rate=0.5), loss=BinaryCrossentropy())
    model.build((None, 2))
    W0, b0 = model.get_weights()
    history = model.fit(X, Y, batch_size=batch_size, epochs=4, shuffle=False, verbose=0)
    W, b, expected = _by_hand_logistic_sgd(X, Y, W0, b0, 0.5, batch_size, 4)
    np.testing.assert_allclose(history.history["loss"], expected, rtol=1e-12)
    np.testing.assert_allclose(model.get_weights()[0], W, rtol=1e-12)
    np.testing.assert_allclose(model.get_weights()[1], b, rtol=1e-12)
    assert history.epoch == [0, 1, 2, 3]


@pytest.mark.parametrize("m, batch_size, steps_per_epoch", [
    (100, 100, 1),   # full batch: an epoch is one gradient step
    (100, None, 4),  # Keras's default batch_size=32: 32 + 32 + 32 + 4
    (100, 32, 4),
    (96, 32, 3),
    (5, 32, 1),
])
def test_number_of_gradient_steps(m, batch_size, steps_per_epoch):
    X, Y = _logistic_data(m)
    model = Sequential([Dense(3, "relu"), Dense(1, "sigmoid")], seed=0)
    optimizer = SGD()
    model.compile(optimizer=optimizer, loss="binary_crossentropy")
    model.fit(X, Y, batch_size=batch_size, epochs=7, verbose=0)
    assert optimizer.iterations == 7 * steps_per_epoch


def test_sgd_momentum_rmsprop_adam_first_steps():
    """Known properties of each update rule, on a constant gradient g."""
    g = np.array([0.5, -2.0])

    def steps(optimizer, n):
        w = np.zeros(2)
        for _ in range(n):
            optimizer.step([w], [g])
        return w

    np.testing.assert_allclose(steps(SGD(0.1), 2), -2 * 0.1 * g)
    # momentum 0.9: step 1 moves lr*g, step 2 moves lr*g + 0.9*lr*g
    np.testing.assert_allclose(steps(SGD(0.1, momentum=0.9), 2), -(1 + 1.9) * 0.1 * g)
    # RMSprop, step 1: v = 0.1 g^2, so the step is lr * g / sqrt(0.1 g^2 + 1e-7)
    np.testing.assert_allclose(steps(RMSprop(0.01), 1), -0.01 * g / np.sqrt(0.1 * g**2 + 1e-7))
    # Adam's bias correction makes every step on a constant gradient about lr * sign(g)
    # (to ~1e-5: Keras rounds beta_2 = 0.999 to float32 in 1 - beta_2**t, as nnlib does)
    w = steps(Adam(0.01), 3)
    np.testing.assert_allclose(w, -3 * 0.01 * np.sign(g), rtol=1e-4)


def test_compile_without_optimizer_is_rmsprop_with_keras_defaults():
    model = Sequential([Dense(1)])
    model.compile(loss="mse")
    opt = model.optimizer
    assert isinstance(opt, RMSprop)
    assert (opt.learning_rate, opt.rho, opt.epsilon) == (0.001, 0.9, 1e-7)
    assert isinstance(get_optimizer("adam"), Adam)


def test_evaluate_computes_bce_from_the_logit_like_keras():
    model = Sequential([Input((1,)), Dense(1, "sigmoid")])
    model.set_weights([np.array([[40.0]]), np.array([0.0])])  # z = 40, sigmoid(z) rounds to 1
    model.compile(loss=BinaryCrossentropy())
    X, Y = np.array([[1.0]]), np.array([[0.0]])
    # from the logit: max(z,0) - z*y + log1p(exp(-|z|)) = 40 + 4e-18; a clip would give 16.1
    assert model.evaluate(X, Y) == pytest.approx(40.0, rel=1e-15)
    assert BinaryCrossentropy()(Y, model.predict(X)) == pytest.approx(-np.log(1e-7), rel=1e-6)


def test_predict_is_g_of_XW_plus_b_layer_by_layer():
    rng = np.random.default_rng(3)
    X = rng.normal(size=(6, 2))
    model = Sequential([Dense(4, "relu"), Dense(1, "sigmoid")], seed=0)
    model.build((None, 2))
    W1, b1, W2, b2 = model.get_weights()
    hidden = np.maximum(X @ W1 + b1, 0)
    expected = 1 / (1 + np.exp(-(hidden @ W2 + b2)))
    np.testing.assert_allclose(model.predict(X), expected, rtol=1e-14)


def test_glorot_uniform_limit_and_zero_bias():
    model = Sequential([Input((300,)), Dense(200)], seed=0)
    W, b = model.get_weights()
    limit = np.sqrt(6 / (300 + 200))
    assert np.abs(W).max() <= limit and np.abs(W).max() > 0.99 * limit
    assert abs(W.std() - limit / np.sqrt(3)) < 0.01 * limit  # std of U(-a, a) is a/sqrt(3)
    np.testing.assert_array_equal(b, 0)


def test_seed_makes_initialisation_and_shuffling_reproducible():
    X, Y = _logistic_data(50)

    def trained(seed, fit_seed=None, shuffle=True):
        model = Sequential([Dense(3, "relu"), Dense(1, "sigmoid")], seed=seed)
        model.compile(optimizer=SGD(0.1), loss="binary_crossentropy")
        model.fit(X, Y, batch_size=8, epochs=3, shuffle=shuffle, verbose=0, seed=fit_seed)
        return np.concatenate([w.ravel() for w in model.get_weights()])

    np.testing.assert_array_equal(trained(1), trained(1))
    assert not np.allclose(trained(1), trained(2))
    assert not np.allclose(trained(1, fit_seed=5), trained(1, fit_seed=6))
    assert not np.allclose(trained(1, shuffle=False), trained(1, shuffle=True))


def test_float32_on_request():
    X, Y = _logistic_data(40)
    model = Sequential([Dense(3, "relu"), Dense(1, "sigmoid")], seed=0, dtype="float32")
    model.compile(optimizer=Adam(0.01), loss=BinaryCrossentropy())
    model.fit(X, Y, epochs=2, verbose=0)
    assert all(w.dtype == np.float32 for w in model.get_weights())
    assert model.predict(X).dtype == np.float32
    assert Sequential([Dense(1)]).dtype == np.float64


def test_verbose_prints_one_line_per_epoch(capsys):
    X, Y = _logistic_data(20)
    model = Sequential([Dense(1, "sigmoid")], seed=0)
    model.compile(loss="binary_crossentropy")
    model.fit(X, Y, epochs=3, verbose=0)
    assert capsys.readouterr().out == ""
    history = model.fit(X, Y, epochs=3, verbose=1)
    lines = capsys.readouterr().out.splitlines()
    assert [line.split(" - ")[0] for line in lines] == ["Epoch 1/3", "Epoch 2/3", "Epoch 3/3"]
    assert lines[-1].endswith(f"loss: {history.history['loss'][-1]:.4f}")


def test_a_diverging_run_stops_with_a_message():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 2)) * 100
    Y = rng.normal(size=(40, 1)) * 100
    model = Sequential([Dense(8, "relu"), Dense(1)], seed=0)
    model.compile(optimizer=SGD(learning_rate=10.0), loss=MeanSquaredError())
    with pytest.warns(RuntimeWarning, match="training stopped.*smaller learning_rate"):
        history = model.fit(X, Y, epochs=50, verbose=0)
    assert len(history.history["loss"]) < 50
    assert not np.isfinite(history.history["loss"][-1])


def test_summary_counts_parameters(capsys):
    model = Sequential([Input((2,)), Dense(25, "sigmoid"), Dense(15, "sigmoid"),
                        Dense(1, "sigmoid")])
    model.summary()
    out = capsys.readouterr().out
    # (2*25 + 25) + (25*15 + 15) + (15*1 + 1) = 75 + 390 + 16
    assert "Total params: 481" in out
    assert all(str(n) in out for n in (75, 390, 16))
    assert model.count_params() == 481
