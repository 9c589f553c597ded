"""Tests for nnlib.datasets: shapes, determinism, and that each set is what its docstring says."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nnlib import datasets

# generator -> number of features
GENERATORS = {
    datasets.coffee_roasting: 2,
    datasets.xor: 2,
    datasets.circles: 2,
    datasets.regression_signed: 1,
    datasets.regression_nonnegative: 1,
}
CLASSIFICATION = [datasets.coffee_roasting, datasets.xor, datasets.circles]
ALL = list(GENERATORS)


def _name(f):
    return f.__name__


# --- every generator -----------------------------------------------------------------------


@settings(max_examples=40, deadline=None)
@given(m=st.integers(1, 400), seed=st.integers(0, 2**32 - 1))
@pytest.mark.parametrize("make", ALL, ids=_name)
def test_shapes_dtypes_and_finiteness(make, m, seed):
    """X is float64 (m, n_features), Y is float64 (m, 1), and everything is finite."""
    X, Y = make(m=m, seed=seed)
    assert X.shape == (m, GENERATORS[make]), f"X shape {X.shape}"
    assert Y.shape == (m, 1), f"Y shape {Y.shape}"
    assert X.dtype == np.float64 and Y.dtype == np.float64
    assert np.isfinite(X).all() and np.isfinite(Y).all()


@pytest.mark.parametrize("make", ALL, ids=_name)
def test_same_seed_gives_identical_arrays(make):
    X1, Y1 = make(m=50, seed=7)
    X2, Y2 = make(m=50, seed=7)
    np.testing.assert_array_equal(X1, X2)
    np.testing.assert_array_equal(Y1, Y2)


@pytest.mark.parametrize("make", ALL, ids=_name)
def test_default_seed_is_zero(make):
    np.testing.assert_array_equal(make(m=30)[0], make(m=30, seed=0)[0])


@pytest.mark.parametrize("make", ALL, ids=_name)
def test_different_seeds_give_different_arrays(make):
    X1, _ = make(m=50, seed=0)
    X2, _ = make(m=50, seed=1)
    assert not np.array_equal(X1, X2)


@pytest.mark.parametrize("make", ALL, ids=_name)
@pytest.mark.parametrize("m", [0, -3, 2.5, True, "10", None])
def test_bad_m_is_rejected_with_a_clear_message(make, m):
    with pytest.raises(ValueError, match=r"m must be a positive integer\. Received: m="):
        make(m=m)


def test_bad_m_message_shows_the_value():
    with pytest.raises(ValueError, match=r"^m must be a positive integer\. Received: m=0$"):
        datasets.xor(m=0)


def test_numpy_integer_m_is_accepted():
    X, Y = datasets.xor(m=np.int64(12))
    assert X.shape == (12, 2) and Y.shape == (12, 1)


@pytest.mark.parametrize("make", ALL, ids=_name)
@pytest.mark.parametrize("seed", [-1, 1.5, "0"])
def test_bad_seed_is_rejected(make, seed):
    with pytest.raises(ValueError, match="seed must be a non-negative integer"):
        make(m=10, seed=seed)


@pytest.mark.parametrize(
    "make",
    [datasets.xor, datasets.circles, datasets.regression_signed, datasets.regression_nonnegative],
    ids=_name,
)
@pytest.mark.parametrize("noise", [-0.1, float("nan"), float("inf"), "0.1"])
def test_bad_noise_is_rejected(make, noise):
    with pytest.raises(ValueError, match="noise must be a finite number >= 0"):
        make(m=10, noise=noise)


@settings(max_examples=40, deadline=None)
@given(m=st.integers(1, 400), seed=st.integers(0, 2**32 - 1))
@pytest.mark.parametrize("make", CLASSIFICATION, ids=_name)
def test_classification_labels_are_zero_or_one(make, m, seed):
    _, Y = make(m=m, seed=seed)
    assert set(np.unique(Y)) <= {0.0, 1.0}, f"labels {np.unique(Y)}"


# --- coffee_roasting ---------------------------------------------------------------------


def _good_roast(temperature, duration):
    """The documented rule, written out independently of the module."""
    t_low = 185 - 10 * (duration - 12)
    t_high = 270 - 15 * (duration - 12)
    return (12 <= duration) & (duration <= 15) & (t_low <= temperature) & (temperature <= t_high)


@settings(max_examples=30, deadline=None)
@given(m=st.integers(1, 400), seed=st.integers(0, 2**32 - 1))
def test_coffee_labels_follow_the_documented_rule(m, seed):
    X, Y = datasets.coffee_roasting(m=m, seed=seed, standardize=False)
    expected = _good_roast(X[:, 0], X[:, 1]).astype(float)
    np.testing.assert_array_equal(Y[:, 0], expected)


def test_coffee_raw_features_are_in_degrees_and_minutes():
    X, _ = datasets.coffee_roasting(m=2000, seed=3, standardize=False)
    temperature, duration = X[:, 0], X[:, 1]
    assert 150 <= temperature.min() and temperature.max() <= 285
    assert 11.5 <= duration.min() and duration.max() <= 16
    # Uniform draws fill their range: no large gap at either end.
    assert temperature.min() < 155 and temperature.max() > 280
    assert duration.min() < 11.7 and duration.max() > 15.8


@pytest.mark.parametrize("seed", range(5))
def test_coffee_has_30_to_50_percent_positives(seed):
    _, Y = datasets.coffee_roasting(seed=seed)
    assert 0.25 <= Y.mean() <= 0.5, f"positive fraction {Y.mean():.2f}"


def test_coffee_negatives_include_undercooked_and_burnt_roasts():
    X, Y = datasets.coffee_roasting(m=1000, seed=0, standardize=False)
    temperature, duration = X[:, 0], X[:, 1]
    bad = Y[:, 0] == 0
    in_time = (duration >= 12) & (duration <= 15)
    t_low = 185 - 10 * (duration - 12)
    t_high = 270 - 15 * (duration - 12)
    assert np.any(bad & in_time & (temperature < t_low)), "no undercooked (too cool) roasts"
    assert np.any(bad & in_time & (temperature > t_high)), "no burnt (too hot) roasts"
    assert np.any(bad & (duration < 12)) and np.any(bad & (duration > 15))


@settings(max_examples=30, deadline=None)
@given(m=st.integers(2, 400), seed=st.integers(0, 2**32 - 1))
def test_coffee_standardized_columns_have_mean_0_and_std_1(m, seed):
    X, _ = datasets.coffee_roasting(m=m, seed=seed)
    np.testing.assert_allclose(X.mean(axis=0), [0.0, 0.0], atol=1e-9)
    np.testing.assert_allclose(X.std(axis=0), [1.0, 1.0], rtol=1e-9)


def test_coffee_standardized_is_the_raw_data_rescaled():
    X_raw, Y_raw = datasets.coffee_roasting(m=100, seed=4, standardize=False)
    X_std, Y_std = datasets.coffee_roasting(m=100, seed=4, standardize=True)
    np.testing.assert_allclose(X_std, (X_raw - X_raw.mean(0)) / X_raw.std(0))
    np.testing.assert_array_equal(Y_std, Y_raw)


def test_coffee_single_example_standardizes_without_nan():
    X, _ = datasets.coffee_roasting(m=1)
    np.testing.assert_array_equal(X, [[0.0, 0.0]])


def test_coffee_band_is_the_documented_formula():
    t_low, t_high = datasets.coffee_band(np.array([12.0, 15.0]))
    np.testing.assert_allclose(t_low, [185.0, 155.0])
    np.testing.assert_allclose(t_high, [270.0, 225.0])


def test_coffee_rejects_non_bool_standardize():
    with pytest.raises(TypeError, match="standardize must be True or False"):
        datasets.coffee_roasting(standardize="yes")


# --- xor ---------------------------------------------------------------------------------


@settings(max_examples=40, deadline=None)
@given(m=st.integers(1, 400), seed=st.integers(0, 2**32 - 1))
def test_xor_clusters_are_balanced_and_sit_at_the_corners(m, seed):
    X, _ = datasets.xor(m=m, seed=seed, noise=0.0)
    assert set(map(tuple, X)) <= {(1.0, 1.0), (-1.0, -1.0), (1.0, -1.0), (-1.0, 1.0)}
    counts = [np.all(X == c, axis=1).sum() for c in ([1, 1], [-1, -1], [1, -1], [-1, 1])]
    assert sum(counts) == m
    assert max(counts) - min(counts) <= 1, f"cluster sizes {counts}"


@settings(max_examples=40, deadline=None)
@given(m=st.integers(1, 400), seed=st.integers(0, 2**32 - 1))
def test_xor_label_is_xor_of_the_signs(m, seed):
    # With noise 0.1 every point stays in its centre's quadrant (10 standard deviations).
    X, Y = datasets.xor(m=m, seed=seed, noise=0.1)
    signs_differ = (X[:, 0] > 0) != (X[:, 1] > 0)
    np.testing.assert_array_equal(Y[:, 0], signs_differ.astype(float))


def test_xor_classes_are_balanced():
    _, Y = datasets.xor(m=200)
    assert Y.sum() == 100


def test_xor_noise_is_gaussian_with_the_given_spread():
    X, _ = datasets.xor(m=4000, seed=1, noise=0.3)
    offsets = X - np.sign(X)  # noise 0.3 leaves ~0.04% of points across an axis; fine here
    assert abs(offsets.std() - 0.3) < 0.02
    assert abs(offsets.mean()) < 0.02


def test_xor_rows_are_shuffled():
    _, Y = datasets.xor(m=200)
    assert 0 < Y[:100].sum() < 100, "the first half holds a single class: rows not shuffled"


# --- circles -----------------------------------------------------------------------------


@settings(max_examples=40, deadline=None)
@given(
    m=st.integers(1, 400),
    seed=st.integers(0, 2**32 - 1),
    factor=st.floats(0.05, 0.95),
)
def test_circles_radii_without_noise(m, seed, factor):
    X, Y = datasets.circles(m=m, seed=seed, noise=0.0, factor=factor)
    radius = np.hypot(X[:, 0], X[:, 1])
    inner = Y[:, 0] == 1
    np.testing.assert_allclose(radius[inner], factor)
    np.testing.assert_allclose(radius[~inner], 1.0)
    assert (~inner).sum() == m // 2 and inner.sum() == m - m // 2


def test_circles_noise_keeps_the_rings_apart():
    X, Y = datasets.circles(m=1000, seed=2, noise=0.05, factor=0.5)
    radius = np.hypot(X[:, 0], X[:, 1])
    inner = Y[:, 0] == 1
    assert abs(radius[inner].mean() - 0.5) < 0.02
    assert abs(radius[~inner].mean() - 1.0) < 0.02
    assert radius[inner].std() > 0.02, "noise was not applied"


def test_circles_points_go_all_the_way_round():
    X, _ = datasets.circles(m=400, noise=0.0)
    angle = np.arctan2(X[:, 1], X[:, 0])
    counts, _ = np.histogram(angle, bins=4, range=(-np.pi, np.pi))
    assert counts.min() > 50, f"points per quarter: {counts}"


@pytest.mark.parametrize("factor", [0, 1, 1.5, -0.5, "0.5"])
def test_circles_rejects_factor_outside_0_1(factor):
    with pytest.raises(ValueError, match="factor .* must be between 0 and 1"):
        datasets.circles(factor=factor)


# --- regression --------------------------------------------------------------------------


def test_regression_signed_takes_both_signs():
    _, Y = datasets.regression_signed()
    assert (Y > 0).mean() > 0.3 and (Y < 0).mean() > 0.3


def test_regression_signed_is_a_sine_plus_noise():
    X, Y = datasets.regression_signed(m=500, noise=0.0)
    assert -np.pi <= X.min() and X.max() <= np.pi
    np.testing.assert_allclose(Y, np.sin(X))
    X, Y = datasets.regression_signed(m=2000, noise=0.1)
    residual = Y - np.sin(X)
    assert abs(residual.std() - 0.1) < 0.01


def test_regression_signed_is_not_linear():
    # The point of the set: the best straight line leaves most of the curve unexplained
    # near the ends, so a network without a nonlinearity cannot fit it.
    X, Y = datasets.regression_signed(m=500, noise=0.0)
    A = np.column_stack([X, np.ones_like(X)])
    coef, *_ = np.linalg.lstsq(A, Y, rcond=None)
    assert np.abs(A @ coef - Y).max() > 0.3


@settings(max_examples=40, deadline=None)
@given(
    m=st.integers(1, 400),
    seed=st.integers(0, 2**32 - 1),
    noise=st.floats(0.0, 5.0),
)
def test_regression_nonnegative_never_goes_below_zero(m, seed, noise):
    _, Y = datasets.regression_nonnegative(m=m, seed=seed, noise=noise)
    assert Y.min() >= 0.0


def test_regression_nonnegative_is_a_clipped_bump():
    X, Y = datasets.regression_nonnegative(m=500, noise=0.0)
    assert 0.0 <= X.min() and X.max() <= 2.0
    # Independent values: 2 at noon (X = 1), 0 from X = 0.5 outwards (1 - 4 * 0.5**2 = 0).
    bump = 2.0 * (1.0 - 4.0 * (X - 1.0) ** 2)
    np.testing.assert_allclose(Y, np.maximum(bump, 0.0))
    assert np.all(Y[np.abs(X - 1.0) >= 0.5] == 0.0) and np.all(Y[np.abs(X - 1.0) < 0.5] > 0.0)
    assert 0.4 < np.mean(Y == 0.0) < 0.6  # night is half of [0, 2]
    # Noise: at night the bump is below 0, so nearly every night target is clipped to 0.
    X, Y = datasets.regression_nonnegative(m=2000, noise=0.1)
    night = np.abs(X[:, 0] - 1.0) > 0.5
    assert np.mean(Y[night] == 0.0) > 0.9
    day = np.abs(X[:, 0] - 1.0) < 0.3
    assert abs((Y[day] - np.maximum(bump_at(X[day]), 0.0)).std() - 0.1) < 0.02


def bump_at(X):
    return 2.0 * (1.0 - 4.0 * (X - 1.0) ** 2)
