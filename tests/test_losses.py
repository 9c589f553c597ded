"""Losses and the cost J against hand-computed values; stability at the extremes."""

import re
import warnings

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from nnlib import losses
from nnlib.gradcheck import numeric_gradient
from nnlib.losses import (
    BinaryCrossentropy,
    MeanSquaredError,
    binary_crossentropy,
    cost,
    mean_squared_error,
)


def test_bce_hand_values_have_the_minus_sign():
    # L = -[y log f + (1-y) log(1-f)]: y=1, f=0.8 -> -log 0.8 = 0.2231...; y=0, f=0.8 -> -log 0.2
    L = binary_crossentropy([1.0, 0.0], [0.8, 0.8])
    np.testing.assert_allclose(L, [-np.log(0.8), -np.log(0.2)], rtol=1e-15)
    assert np.all(L > 0)  # without the minus sign both would be negative


def test_bce_is_about_log2_for_a_coin_flip():
    assert BinaryCrossentropy()([0, 1, 1, 0], [0.5] * 4) == pytest.approx(np.log(2), rel=1e-15)


def test_cost_is_the_mean_of_the_per_example_loss():
    Y = np.array([1.0, 0.0, 1.0])
    F = np.array([0.9, 0.2, 0.4])
    by_hand = -(np.log(0.9) + np.log(0.8) + np.log(0.4)) / 3
    assert cost(binary_crossentropy, Y, F) == pytest.approx(by_hand, rel=1e-15)
    assert cost("binary_crossentropy", Y, F) == pytest.approx(by_hand, rel=1e-15)
    assert BinaryCrossentropy()(Y, F) == pytest.approx(by_hand, rel=1e-15)


def test_perfect_and_hopeless_predictions_are_finite():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        perfect = binary_crossentropy([1.0, 0.0], [1.0, 0.0])
        hopeless = binary_crossentropy([1.0, 0.0], [0.0, 1.0])
    # clipped to [1e-7, 1 - 1e-7], as Keras does
    np.testing.assert_allclose(perfect, -np.log(1 - 1e-7), rtol=1e-9)
    np.testing.assert_allclose(hopeless, -np.log(1e-7), rtol=1e-9)  # 1 - (1 - 1e-7) rounds


def test_bce_from_logits_is_stable_for_huge_logits():
    z = np.array([-1e4, -50.0, -1.0, 0.0, 1.0, 50.0, 1e4])
    y = np.array([1.0, 1.0, 0.0, 1.0, 1.0, 0.0, 0.0])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        L = binary_crossentropy(y, z, from_logits=True)
    # exact values: -log sigmoid(z) for y=1, -log(1 - sigmoid(z)) = -log sigmoid(-z) for y=0;
    # for |z| >= 50, -log sigmoid(-|z|) = |z| to within 1e-21.
    expected = [1e4, 50.0, np.log1p(np.exp(-1.0)), np.log(2), np.log1p(np.exp(-1.0)), 50.0, 1e4]
    np.testing.assert_allclose(L, expected, rtol=1e-15)


def test_labels_m_and_m1_give_the_same_loss():
    F = np.array([[0.3], [0.6], [0.9]])
    a = BinaryCrossentropy()(np.array([0.0, 1.0, 1.0]), F)
    b = BinaryCrossentropy()(np.array([[0.0], [1.0], [1.0]]), F)
    assert a == b


def test_mse_mean_over_outputs_then_over_examples():
    Y = np.array([[1.0, 2.0, 3.0], [0.0, 0.0, 0.0]])
    Y_hat = np.array([[1.0, 2.0, 6.0], [1.0, 1.0, 1.0]])
    np.testing.assert_allclose(mean_squared_error(Y, Y_hat), [3.0, 1.0])
    assert MeanSquaredError()(Y, Y_hat) == 2.0


def test_mismatched_shapes_are_named():
    with pytest.raises(ValueError, match=r"y_true.shape=\(3,\), y_pred.shape=\(2, 1\)"):
        binary_crossentropy([1, 0, 1], [[0.5], [0.5]])


@pytest.mark.parametrize("loss", [BinaryCrossentropy(), BinaryCrossentropy(from_logits=True),
                                  MeanSquaredError()])
def test_loss_gradient_matches_numeric(loss):
    rng = np.random.default_rng(1)
    Y = (rng.random((6, 2)) > 0.5).astype(float)
    Y_hat = rng.uniform(0.05, 0.95, (6, 2))
    numeric = numeric_gradient(lambda: loss(Y, Y_hat), Y_hat, 1e-6)
    np.testing.assert_allclose(loss.gradient(Y, Y_hat), numeric, rtol=1e-6, atol=1e-10)


probabilities = st.floats(0, 1, allow_nan=False)


@given(arrays(np.float64, st.integers(1, 30), elements=probabilities),
       arrays(np.float64, st.integers(1, 30), elements=probabilities))
def test_bce_is_never_negative(y, f):
    n = min(len(y), len(f))
    assert np.all(binary_crossentropy(y[:n], f[:n]) >= 0)


@given(arrays(np.float64, st.integers(1, 30), elements=st.floats(-1e4, 1e4)))
def test_bce_from_logits_agrees_with_bce_of_sigmoid_where_both_are_exact(z):
    z = np.clip(z, -15, 15)  # where sigmoid(z) is not clipped at 1e-7
    y = (z > 0).astype(float)
    p = 1 / (1 + np.exp(-z))
    np.testing.assert_allclose(binary_crossentropy(y, z, from_logits=True),
                               binary_crossentropy(y, p), rtol=1e-6, atol=1e-12)


def test_get_by_name_and_unknown_name():
    assert isinstance(losses.get("mse"), MeanSquaredError)
    assert isinstance(losses.get("binary_crossentropy"), BinaryCrossentropy)
    with pytest.raises(ValueError, match=re.escape(f"one of {sorted(losses.LOSSES)}")):
        losses.get("hinge")
