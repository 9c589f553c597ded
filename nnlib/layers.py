"""Layers: `Input` declares the number of features; `Dense` is A = g(X @ W + b).

Shapes, for a batch of m examples with n_in features each:
    X (m, n_in)   W (n_in, units)   b (units,)   Z = X @ W + b (m, units)   A = g(Z) (m, units)
"""

import numpy as np

from nnlib import activations, initializers


def _check_positive_int(name, value):
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
        raise ValueError(f"{name} must be a positive integer. Received: {name}={value!r}")


class Input:
    """Declares the input shape (n_features,), so that a Sequential is built up front."""

    def __init__(self, shape):
        shape = tuple(shape) if isinstance(shape, tuple | list) else (shape,)
        if len(shape) != 1:
            raise ValueError(
                f"Input shape must be (n_features,) for Dense networks. Received: shape={shape}"
            )
        _check_positive_int("n_features", shape[0])
        self.shape = (int(shape[0]),)


class Dense:
    """A fully connected layer: every unit sees every input.

    forward(X) caches X, Z and A; backward(dA) fills dW, db and returns dX, where for the
    cost J and dA = dJ/dA:
        dZ = dA * g'(Z)    dW = X.T @ dZ    db = sum of dZ over the batch    dX = dZ @ W.T
    """

    def __init__(self, units, activation=None, kernel_initializer="glorot_uniform",
                 bias_initializer="zeros", name=None):
        _check_positive_int("units", units)
        self.units = int(units)
        self.activation = activations.name_of(activation)
        self.g, self.g_prime = activations.get(activation)
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.name = name
        self.W = self.b = None

    @property
    def built(self):
        return self.W is not None

    def build(self, n_in, rng, dtype=np.float64):
        """Create W (n_in, units) and b (units,), and their gradients dW, db."""
        if self.built:
            if self.W.shape[0] != n_in:
                raise ValueError(
                    f"Layer {self.name!r} was built for {self.W.shape[0]} inputs, "
                    f"but receives {n_in}."
                )
            return
        self.W = self.kernel_initializer((n_in, self.units), rng, dtype)
        self.b = self.bias_initializer((self.units,), rng, dtype)
        self.dW = np.zeros_like(self.W)
        self.db = np.zeros_like(self.b)

    @property
    def params(self):
        return [self.W, self.b]

    @property
    def grads(self):
        return [self.dW, self.db]

    def forward(self, X):
        """A = g(X @ W + b), shape (m, units)."""
        self.X = X
        self.Z = X @ self.W
        self.Z += self.b  # in place: one array per layer and step, not two
        self.A = self.g(self.Z)
        return self.A

    def backward(self, dA, need_dX=True):
        """Given dA = dJ/dA (m, units): fill dW, db and return dX = dJ/dX (m, n_in)."""
        return self.backward_from_z(dA * self.g_prime(self.Z, self.A), need_dX)

    def backward_from_z(self, dZ, need_dX=True):
        """As `backward`, starting from dZ = dJ/dZ (used when the loss is taken from Z).

        need_dX=False skips dX, which the first layer's caller has no use for.
        """
        np.matmul(self.X.T, dZ, out=self.dW)
        dZ.sum(axis=0, out=self.db)
        return dZ @ self.W.T if need_dX else None

    def __repr__(self):
        return f"Dense(units={self.units}, activation={self.activation!r})"
