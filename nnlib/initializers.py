"""Weight initializers: f(shape, rng, dtype) -> array of that shape."""

import numpy as np


def glorot_uniform(shape, rng, dtype=np.float64):
    """Uniform on [-limit, limit] with limit = sqrt(6 / (n_in + n_out)) (Keras's default kernel).

    For a kernel of shape (n_in, units), n_in = shape[0] and n_out = shape[1]; the limit keeps
    the variance of Z = X @ W about the same from layer to layer.
    """
    n_in, n_out = shape
    limit = np.sqrt(6.0 / (n_in + n_out))
    return rng.uniform(-limit, limit, size=shape).astype(dtype)


def zeros(shape, rng=None, dtype=np.float64):
    """All zeros (Keras's default bias). Fine for biases: the kernel already breaks symmetry."""
    return np.zeros(shape, dtype=dtype)


INITIALIZERS = {"glorot_uniform": glorot_uniform, "zeros": zeros}


def get(initializer):
    """An initializer function from its name or the function itself."""
    if callable(initializer):
        return initializer
    if initializer in INITIALIZERS:
        return INITIALIZERS[initializer]
    raise ValueError(
        f"Unknown initializer. Expected one of {sorted(INITIALIZERS)} or a function "
        f"f(shape, rng, dtype). Received: initializer={initializer!r}"
    )
