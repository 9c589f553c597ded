"""Small seeded data sets for the lessons.

Every generator takes ``m`` (the number of examples) and ``seed`` (passed to
``np.random.default_rng``, so the same seed always gives the same arrays) and returns
``(X, Y)``: ``X`` is float64 of shape ``(m, n_features)``, ``Y`` is float64 of shape ``(m, 1)``.

Classification sets (labels in {0, 1}): ``coffee_roasting``, ``xor``, ``circles``.
Regression sets: ``regression_signed`` (targets of both signs, for a linear output) and
``regression_nonnegative`` (targets >= 0, often exactly 0, for a ReLU output).
"""

import numbers

import numpy as np

__all__ = [
    "coffee_roasting",
    "coffee_band",
    "xor",
    "circles",
    "regression_signed",
    "regression_nonnegative",
]

# The coffee-roasting rule, in raw units. A roast is good when the duration is within
# [12, 15] minutes and the temperature lies in a band that slides down as the roast gets
# longer: a longer roast needs less heat. Below the band it is undercooked, above it burnt.
COFFEE_TEMPERATURE_RANGE = (150.0, 285.0)  # °C, where the examples are drawn from
COFFEE_DURATION_RANGE = (11.5, 16.0)  # minutes, where the examples are drawn from
COFFEE_GOOD_DURATION = (12.0, 15.0)  # minutes


def coffee_band(duration):
    """Return ``(t_low, t_high)``, the good temperature band in °C for a duration in minutes.

    ``t_low = 185 - 10 * (duration - 12)`` and ``t_high = 270 - 15 * (duration - 12)``,
    so the band is 185-270 °C for a 12-minute roast and 155-225 °C for a 15-minute one.
    Works elementwise on arrays.
    """
    duration = np.asarray(duration, dtype=np.float64)
    return 185.0 - 10.0 * (duration - 12.0), 270.0 - 15.0 * (duration - 12.0)


def coffee_roasting(m=200, seed=0, standardize=True):
    """Coffee-roasting data: is a roast at this temperature and duration good?

    Features, drawn uniformly: ``X[:, 0]`` is the temperature in °C (150-285) and ``X[:, 1]``
    the duration in minutes (11.5-16). The label is 1 (a good roast) when the duration is
    within 12-15 minutes and the temperature lies within ``coffee_band(duration)``; too cool or
    too short is undercooked, too hot or too long is burnt (label 0). There is no label noise,
    and about 38% of the examples are positive.

    With ``standardize=True`` (the default) each column of ``X`` is standardized to zero mean
    and unit variance, because sigmoid units saturate on raw inputs like 200 °C and then learn
    nothing. Pass ``standardize=False`` to get the raw °C and minutes.

    Returns:
        X: float64, shape (m, 2), temperature and duration.
        Y: float64, shape (m, 1), 1.0 for a good roast, else 0.0.
    """
    m = _check_m(m)
    rng = _rng(seed)
    if not isinstance(standardize, (bool, np.bool_)):
        raise TypeError(f"standardize must be True or False. Received: standardize={standardize!r}")

    temperature = rng.uniform(*COFFEE_TEMPERATURE_RANGE, size=m)
    duration = rng.uniform(*COFFEE_DURATION_RANGE, size=m)
    t_low, t_high = coffee_band(duration)
    good = (
        (duration >= COFFEE_GOOD_DURATION[0])
        & (duration <= COFFEE_GOOD_DURATION[1])
        & (temperature >= t_low)
        & (temperature <= t_high)
    )

    X = np.column_stack([temperature, duration])
    if standardize:
        std = X.std(axis=0)
        # With m = 1 a column has no spread; leave it centred rather than divide by zero.
        X = (X - X.mean(axis=0)) / np.where(std > 0, std, 1.0)
    return X, good.astype(np.float64).reshape(m, 1)


def xor(m=200, seed=0, noise=0.1):
    """XOR data: four Gaussian clusters centred at (±1, ±1).

    The clusters get ``m // 4`` examples each (the first ``m % 4`` clusters one more), and
    each point is its centre plus Gaussian noise of standard deviation ``noise``. The label is
    the XOR of the centre's signs: 1 for the centres (1, -1) and (-1, 1), 0 for (1, 1) and
    (-1, -1). No straight line separates the classes. The rows are shuffled, so any batch
    mixes the clusters.

    Returns:
        X: float64, shape (m, 2).
        Y: float64, shape (m, 1), values in {0.0, 1.0}.
    """
    m = _check_m(m)
    rng = _rng(seed)
    noise = _check_noise(noise)

    centres = np.array([[1.0, 1.0], [-1.0, -1.0], [1.0, -1.0], [-1.0, 1.0]])
    labels = np.array([0.0, 0.0, 1.0, 1.0])  # 1 where the two signs differ
    counts = [m // 4 + (k < m % 4) for k in range(4)]
    cluster = np.repeat(np.arange(4), counts)
    cluster = rng.permutation(cluster)

    X = centres[cluster] + noise * rng.standard_normal((m, 2))
    return X, labels[cluster].reshape(m, 1)


def circles(m=200, seed=0, noise=0.05, factor=0.5):
    """Two concentric circles: an inner circle (label 1) inside an outer one (label 0).

    ``m // 2`` points lie on the outer circle of radius 1 and the other ``m - m // 2`` on the
    inner circle of radius ``factor``, at uniformly random angles; Gaussian noise of standard
    deviation ``noise`` is then added to both coordinates. The rows are shuffled.

    Returns:
        X: float64, shape (m, 2).
        Y: float64, shape (m, 1), 1.0 for the inner circle, 0.0 for the outer one.
    """
    m = _check_m(m)
    rng = _rng(seed)
    noise = _check_noise(noise)
    if not isinstance(factor, numbers.Real) or not 0.0 < factor < 1.0:
        raise ValueError(
            f"factor (inner radius / outer radius) must be between 0 and 1. Received: "
            f"factor={factor!r}"
        )

    n_outer = m // 2
    inner = rng.permutation(np.arange(m) >= n_outer)
    radius = np.where(inner, float(factor), 1.0)
    angle = rng.uniform(0.0, 2.0 * np.pi, size=m)
    X = np.column_stack([radius * np.cos(angle), radius * np.sin(angle)])
    X = X + noise * rng.standard_normal((m, 2))
    return X, inner.astype(np.float64).reshape(m, 1)


def regression_signed(m=200, seed=0, noise=0.1):
    """A smooth target of both signs, for a network with a linear output and MSE.

    ``X`` is drawn uniformly from [-π, π] and ``Y = sin(X) + noise * N(0, 1)``. The target is
    positive for x > 0 and negative for x < 0, so a ReLU or sigmoid output could not fit it.

    Returns:
        X: float64, shape (m, 1).
        Y: float64, shape (m, 1).
    """
    m = _check_m(m)
    rng = _rng(seed)
    noise = _check_noise(noise)

    X = rng.uniform(-np.pi, np.pi, size=(m, 1))
    Y = np.sin(X) + noise * rng.standard_normal((m, 1))
    return X, Y


def regression_nonnegative(m=200, seed=0, noise=0.1):
    """A target that is never negative and is 0 over part of the range, for a ReLU output.

    Think of a solar panel's power over one day: ``X`` is the time of day in units of 12 hours
    (0 is midnight, 1 noon, 2 the next midnight), drawn uniformly from [0, 2], and

        Y = max(0, 2 * (1 - 4 * (X - 1)**2) + noise * N(0, 1))

    a bump of height 2 at noon that is 0 all night (X below 0.5 or above 1.5). The noise is
    clipped at 0, as the power cannot be negative, so ``Y >= 0`` always and about half of
    the targets (nearly all the night's) are exactly 0. A fit with a linear output tends to
    dip below 0 at night; a ReLU output cannot.

    Returns:
        X: float64, shape (m, 1).
        Y: float64, shape (m, 1), all values >= 0.
    """
    m = _check_m(m)
    rng = _rng(seed)
    noise = _check_noise(noise)

    X = rng.uniform(0.0, 2.0, size=(m, 1))
    power = 2.0 * (1.0 - 4.0 * (X - 1.0) ** 2)  # the bump: 2 at noon, below 0 at night
    Y = np.maximum(power + noise * rng.standard_normal((m, 1)), 0.0)
    return X, Y


def _check_m(m):
    # bool is an int subclass, but m=True is always a mistake.
    if isinstance(m, (bool, np.bool_)) or not isinstance(m, numbers.Integral) or m < 1:
        raise ValueError(f"m must be a positive integer. Received: m={m!r}")
    return int(m)


def _rng(seed):
    if seed is not None and (
        isinstance(seed, (bool, np.bool_)) or not isinstance(seed, numbers.Integral) or seed < 0
    ):
        raise ValueError(f"seed must be a non-negative integer or None. Received: seed={seed!r}")
    return np.random.default_rng(seed)


def _check_noise(noise):
    if (
        isinstance(noise, (bool, np.bool_))
        or not isinstance(noise, numbers.Real)
        or not np.isfinite(noise)
        or noise < 0
    ):
        raise ValueError(f"noise must be a finite number >= 0. Received: noise={noise!r}")
    return float(noise)
