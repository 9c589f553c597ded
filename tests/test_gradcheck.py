"""Every backward pass is the derivative of the cost: backprop vs centred differences."""

import numpy as np
import pytest

from nnlib import BinaryCrossentropy, Dense, MeanSquaredError, Sequential
from nnlib.activations import ACTIVATIONS  # every activation nnlib has
from nnlib.gradcheck import gradcheck, numeric_gradient, relative_error

# (loss, output activation or None for "the activation under test"):
# BCE on probabilities needs a sigmoid output; from logits and MSE take any output.
LOSSES = {
    "bce": (BinaryCrossentropy, "sigmoid"),
    "bce_from_logits": (lambda: BinaryCrossentropy(from_logits=True), None),
    "mse": (MeanSquaredError, None),
}


def _data(seed=0, m=12, n=3):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(m, n))
    Y = (rng.random((m, 1)) > 0.5).astype(float)
    return X, Y


@pytest.mark.parametrize("depth", [1, 2, 3])
@pytest.mark.parametrize("loss_name", sorted(LOSSES))
@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_backprop_matches_numeric_gradient(activation, loss_name, depth):
    make_loss, output_activation = LOSSES[loss_name]
    widths = [5, 4, 1][-depth:]
    acts = [activation] * depth
    acts[-1] = output_activation or activation
    model = Sequential([Dense(u, a) for u, a in zip(widths, acts, strict=True)], seed=depth)
    model.compile(loss=make_loss())
    X, Y = _data(seed=depth)
    assert gradcheck(model, X, Y) < 1e-7


def test_gradcheck_catches_a_wrong_backward_pass():
    class ForgetsTheBias(Dense):
        def backward_from_z(self, dZ, need_dX=True):
            dX = super().backward_from_z(dZ, need_dX)
            self.db[...] = 0.5 * self.db  # a plausible bug: a wrong factor on db
            return dX

    model = Sequential([Dense(4, "relu"), ForgetsTheBias(1, "sigmoid")], seed=0)
    model.compile(loss=BinaryCrossentropy())
    X, Y = _data()
    assert gradcheck(model, X, Y) > 1e-2


def test_numeric_gradient_of_a_known_function():
    P = np.array([[1.0, -2.0], [0.5, 3.0]])
    grad = numeric_gradient(lambda: float(np.sum(P**3)), P)
    np.testing.assert_allclose(grad, 3 * P**2, rtol=1e-9)
    np.testing.assert_array_equal(P, [[1.0, -2.0], [0.5, 3.0]])  # restored


def test_relative_error_scale():
    a = np.array([1.0, 2.0])
    assert relative_error(a, a) == 0.0
    assert relative_error(a, -a) == 1.0
    assert relative_error(np.zeros(2), np.zeros(2)) == 0.0
