"""Activations against hand-computed values, their derivatives against numeric ones."""

import re
import warnings

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from nnlib import activations
from nnlib.activations import (
    ACTIVATIONS,
    linear,
    linear_prime,
    relu,
    relu_prime,
    sigmoid,
    sigmoid_prime,
)

finite = st.floats(-1e4, 1e4, allow_nan=False)


def test_sigmoid_hand_values():
    z = np.array([0.0, 1.0, -2.0, np.log(3.0)])
    # 1/(1+e^0) = 1/2; 1/(1+e^-1); 1/(1+e^2); 1/(1 + 1/3) = 3/4
    expected = [0.5, 1 / (1 + np.exp(-1.0)), 1 / (1 + np.exp(2.0)), 0.75]
    np.testing.assert_allclose(sigmoid(z), expected, rtol=1e-15)


def test_relu_and_linear_hand_values():
    z = np.array([-3.0, -0.0, 0.0, 2.5])
    np.testing.assert_array_equal(relu(z), [0.0, 0.0, 0.0, 2.5])
    np.testing.assert_array_equal(linear(z), z)
    np.testing.assert_array_equal(relu_prime(z), [0.0, 0.0, 0.0, 1.0])  # 0 at z = 0, as TF
    np.testing.assert_array_equal(linear_prime(z), [1.0, 1.0, 1.0, 1.0])


def test_sigmoid_prime_peaks_at_a_quarter():
    z = np.linspace(-8, 8, 1601)
    d = sigmoid_prime(z)
    assert d.max() == pytest.approx(0.25, abs=1e-15)
    assert z[d.argmax()] == pytest.approx(0.0, abs=1e-12)


@pytest.mark.parametrize("name", list(activations.ACTIVATIONS))
def test_derivative_matches_centred_difference(name):
    g, g_prime = activations.get(name)
    z = np.random.default_rng(0).uniform(-5, 5, 200)
    z = z[np.abs(z) > 1e-3]  # keep away from relu's kink
    eps = 1e-6
    numeric = (g(z + eps) - g(z - eps)) / (2 * eps)
    np.testing.assert_allclose(g_prime(z), numeric, rtol=1e-7, atol=1e-9)


def test_sigmoid_no_overflow_for_huge_inputs():
    z = np.array([-1e4, -800.0, -50.0, 0.0, 50.0, 800.0, 1e4])
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # any RuntimeWarning (overflow) fails the test
        a = sigmoid(z)
        d = sigmoid_prime(z)
    assert np.all(np.isfinite(a)) and np.all(np.isfinite(d))
    assert a[0] == 0.0 and a[-1] == 1.0 and a[3] == 0.5


@given(arrays(np.float64, st.integers(1, 50), elements=finite))
def test_sigmoid_symmetry_and_range(z):
    a = sigmoid(z)
    assert np.all((a >= 0) & (a <= 1))
    np.testing.assert_allclose(sigmoid(-z), 1 - a, atol=1e-15)


@given(arrays(np.float64, st.tuples(st.integers(1, 6), st.integers(1, 6)), elements=finite))
def test_activations_keep_shape_and_relu_is_nonnegative(Z):
    for name in activations.ACTIVATIONS:
        g, g_prime = activations.get(name)
        assert g(Z).shape == Z.shape and g_prime(Z).shape == Z.shape
    assert np.all(relu(Z) >= 0)
    assert np.all(relu(Z) == np.where(Z > 0, Z, 0))


def test_get_by_name_by_function_and_none():
    assert activations.get("relu") == (relu, relu_prime)
    assert activations.get(sigmoid) == (sigmoid, sigmoid_prime)
    assert activations.get(None) == (linear, linear_prime)
    assert activations.name_of(relu) == "relu"
    assert activations.name_of(None) == "linear"


@pytest.mark.parametrize("bad", ["sigmod", "Relu", np.tanh, 3])  # typo, case, foreign function
def test_unknown_activation_lists_the_valid_ones(bad):
    with pytest.raises(ValueError, match=re.escape(f"Expected one of {sorted(ACTIVATIONS)}")):
        activations.get(bad)
