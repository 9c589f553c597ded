"""Losses L(y_hat, y) for one example, and the cost J = mean of L over the m examples.

Conventions (as in Keras 3):
- Y and Y_hat have shape (m, units); labels of shape (m,) are accepted for (m, 1)
  predictions, and 1-D arrays on both sides mean m examples with one output each.
- A per-example loss is the mean over the last axis (the outputs): shape (m,).
- The cost (what `fit` minimises and `evaluate` reports) is the mean over the batch.
"""

import numpy as np

from nnlib.activations import sigmoid

EPSILON = 1e-7  # Keras's clip for probabilities: log never sees 0


def _as_pair(y_true, y_pred):
    """Return (Y, Y_hat) as 2-D float arrays of one shape (m, units), or raise ValueError."""
    Y_hat = np.asarray(y_pred)
    if Y_hat.dtype.kind != "f":
        Y_hat = Y_hat.astype(np.float64)
    Y = np.asarray(y_true, dtype=Y_hat.dtype)
    if Y_hat.ndim == 1:
        Y_hat = Y_hat[:, None]
    if Y.ndim == 1:
        Y = Y[:, None]
    if Y.shape != Y_hat.shape or Y.ndim != 2:
        raise ValueError(
            "Labels and predictions must have the same shape (m, units), or labels (m,) with "
            f"predictions (m, 1). Received: y_true.shape={np.shape(y_true)}, "
            f"y_pred.shape={np.shape(y_pred)}"
        )
    return Y, Y_hat


def binary_crossentropy(y_true, y_pred, from_logits=False):
    """Per-example binary cross-entropy, shape (m,).

    L(f, y) = -[ y log f + (1 - y) log(1 - f) ]   (note the minus: log f <= 0, so L >= 0)

    y_pred holds probabilities f in [0, 1], clipped to [1e-7, 1 - 1e-7] so that a
    confident wrong answer costs about 16.1 instead of infinity. With from_logits=True,
    y_pred holds logits z (f = sigmoid(z)) and the loss is computed without ever forming f:
        L = max(z, 0) - z*y + log(1 + exp(-|z|)),
    which is exact for any z and never overflows.
    """
    Y, Y_hat = _as_pair(y_true, y_pred)
    if from_logits:
        L = bce_from_logits_elementwise(Y, Y_hat)
    else:
        F = np.clip(Y_hat, EPSILON, 1 - EPSILON)
        L = -(Y * np.log(F) + (1 - Y) * np.log(1 - F))
    return L.mean(axis=-1)


def bce_from_logits_elementwise(Y, Z):
    """max(z, 0) - z*y + log(1 + exp(-|z|)) for arrays Y, Z of one shape (no checks)."""
    return np.maximum(Z, 0) - Z * Y + np.log1p(np.exp(-np.abs(Z)))


def mean_squared_error(y_true, y_pred):
    """Per-example squared error, shape (m,): L = mean over outputs of (y_hat - y)**2."""
    Y, Y_hat = _as_pair(y_true, y_pred)
    return np.square(Y_hat - Y).mean(axis=-1)


def cost(loss, Y, Y_hat):
    """J = (1/m) * sum_i L(y_hat_i, y_i): the mean of the per-example loss over m examples.

    `loss` is a per-example function such as `binary_crossentropy`, a Loss object, or a name.
    """
    per_example = get(loss).per_example if isinstance(loss, str | Loss) else loss
    return float(np.mean(per_example(Y, Y_hat)))


class Loss:
    """A loss with Keras's reduction: per-example loss, then the mean over the batch."""

    name = "loss"

    def per_example(self, y_true, y_pred):
        raise NotImplementedError

    def __call__(self, y_true, y_pred):
        """The cost J (a float) of predictions y_pred against labels y_true."""
        return float(np.mean(self.per_example(y_true, y_pred)))

    def gradient(self, y_true, y_pred):
        """dJ/dY_hat, shape (m, units), for the cost J = __call__(y_true, y_pred)."""
        raise NotImplementedError

    def __repr__(self):
        return f"{type(self).__name__}()"


class BinaryCrossentropy(Loss):
    """Binary cross-entropy, mean over the batch (see `binary_crossentropy` for the formula).

    from_logits=False (default): y_pred are probabilities, clipped to [1e-7, 1 - 1e-7].
    A `Sequential` whose last layer is a sigmoid still computes this loss from that layer's
    logit z, exactly as Keras does; the clip only applies to bare probabilities.
    """

    name = "binary_crossentropy"

    def __init__(self, from_logits=False):
        self.from_logits = bool(from_logits)

    def per_example(self, y_true, y_pred):
        return binary_crossentropy(y_true, y_pred, from_logits=self.from_logits)

    def gradient(self, y_true, y_pred):
        if self.from_logits:
            return self.logit_gradient(y_true, y_pred)
        Y, F = _as_pair(y_true, y_pred)
        inside = (F >= EPSILON) & (F <= 1 - EPSILON)  # the clip passes no gradient outside
        Fc = np.clip(F, EPSILON, 1 - EPSILON)
        return np.where(inside, (Fc - Y) / (Fc * (1 - Fc)), 0.0) / Y.size

    @staticmethod
    def logit_gradient(y_true, Z):
        """dJ/dz of the cost computed from logits Z: (sigmoid(z) - y) / (number of outputs)."""
        Y, Z = _as_pair(y_true, Z)
        return (sigmoid(Z) - Y) / Y.size

    def __repr__(self):
        return f"BinaryCrossentropy(from_logits={self.from_logits})"


class MeanSquaredError(Loss):
    """Mean squared error: J = mean over the batch of mean over outputs of (y_hat - y)**2."""

    name = "mean_squared_error"

    def per_example(self, y_true, y_pred):
        return mean_squared_error(y_true, y_pred)

    def gradient(self, y_true, y_pred):
        Y, Y_hat = _as_pair(y_true, y_pred)
        return 2.0 * (Y_hat - Y) / Y.size


LOSSES = {
    "binary_crossentropy": BinaryCrossentropy,
    "mean_squared_error": MeanSquaredError,
    "mse": MeanSquaredError,
}


def get(loss):
    """A Loss object from a Loss object or a name such as "binary_crossentropy" or "mse"."""
    if isinstance(loss, Loss):
        return loss
    if isinstance(loss, str) and loss in LOSSES:
        return LOSSES[loss]()
    if loss is binary_crossentropy or loss is mean_squared_error:
        return LOSSES[loss.__name__]()
    raise ValueError(
        f"Unknown loss. Expected a Loss object (BinaryCrossentropy(), MeanSquaredError()) or "
        f"one of {sorted(LOSSES)}. Received: loss={loss!r}"
    )
