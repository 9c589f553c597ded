"""Activation functions g(z) and their derivatives g'(z), found by name.

Every function takes an array Z of any shape and returns an array of the same shape.
A Dense layer computes A = g(Z) with Z = X @ W + b; its backward pass needs g'(Z).
"""

import numpy as np


def sigmoid(Z):
    """g(z) = 1 / (1 + exp(-z)), squashing any real z into (0, 1).

    Written so that exp never sees a large positive argument: g(z) = e^min(z, 0) / (1 + e^-|z|),
    which is 1 / (1 + e^-z) for z >= 0 and the equal form e^z / (1 + e^z) for z < 0. Then
    |z| up to 1e4 (and beyond) gives no overflow warning and no NaN, only values that round
    to 0 or 1. (Two exps and no select: as fast as the naive form, whose exp(-z) overflows.)
    """
    Z = np.asarray(Z)
    numerator = np.exp(np.minimum(Z, 0))
    denominator = np.exp(-np.abs(Z))
    denominator += 1.0
    numerator /= denominator  # in place for arrays (a 0-d input gives NumPy scalars)
    return numerator


def sigmoid_prime(Z, A=None):
    """g'(z) = g(z) * (1 - g(z)); at most 1/4, at z = 0, and near 0 for large |z|.

    A = g(Z), when the caller has it (a layer caches it), saves computing it again.
    """
    A = sigmoid(Z) if A is None else A
    return A * (1.0 - A)


def relu(Z):
    """g(z) = max(0, z)."""
    return np.maximum(Z, 0)


def relu_prime(Z, A=None):
    """g'(z) = 1 where z > 0, else 0 (at z = 0 it is 0, as in TensorFlow)."""
    Z = np.asarray(Z)
    return (Z > 0).astype(Z.dtype if Z.dtype.kind == "f" else np.float64)


def linear(Z):
    """g(z) = z: no activation at all (Keras's `activation=None`)."""
    return np.asarray(Z)


def linear_prime(Z, A=None):
    """g'(z) = 1."""
    Z = np.asarray(Z)
    return np.ones_like(Z, dtype=Z.dtype if Z.dtype.kind == "f" else np.float64)


ACTIVATIONS = {
    "sigmoid": (sigmoid, sigmoid_prime),
    "relu": (relu, relu_prime),
    "linear": (linear, linear_prime),
}


def get(activation):
    """Return the (g, g_prime) pair for a name ("relu"), a function (`relu`), or None (linear).

    Raises ValueError naming the valid choices for anything else.
    """
    if activation is None:
        return ACTIVATIONS["linear"]
    if isinstance(activation, str) and activation in ACTIVATIONS:
        return ACTIVATIONS[activation]
    for pair in ACTIVATIONS.values():
        if activation is pair[0]:
            return pair
    raise ValueError(
        f"Unknown activation. Expected one of {sorted(ACTIVATIONS)} (a name or the function "
        f"from nnlib.activations) or None. Received: activation={activation!r}"
    )


def name_of(activation):
    """The registered name of an activation given as a name, a function or None."""
    pair = get(activation)
    return next(name for name, p in ACTIVATIONS.items() if p is pair)
