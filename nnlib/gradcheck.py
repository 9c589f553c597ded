"""Numeric gradient check: is every backward pass the true derivative of the cost?

For each parameter p, the centred difference
    dJ/dp ~ (J(p + eps) - J(p - eps)) / (2 eps)
has an error of order eps**2, so in float64 it agrees with a correct backward pass to
about 1e-9 relative error, and with a wrong one (a missing factor, a sign) not at all.
"""

import numpy as np


def numeric_gradient(f, P, epsilon=1e-5):
    """Centred-difference gradient of the scalar f() with respect to the array P (in place).

    Each element of P is nudged by +-epsilon, f is evaluated, and the element is restored.
    Returns an array shaped like P.
    """
    grad = np.zeros_like(P, dtype=np.float64)
    for i in np.ndindex(P.shape):
        original = P[i]
        P[i] = original + epsilon
        plus = f()
        P[i] = original - epsilon
        minus = f()
        P[i] = original
        grad[i] = (plus - minus) / (2 * epsilon)
    return grad


def relative_error(a, b):
    """||a - b|| / (||a|| + ||b||): 0 when equal, about 1 when unrelated (0 if both are 0)."""
    scale = np.linalg.norm(a) + np.linalg.norm(b)
    return 0.0 if scale == 0 else float(np.linalg.norm(a - b) / scale)


def gradcheck(model, X, Y, epsilon=1e-5):
    """Largest relative error between backprop and numeric gradients over W1, b1, W2, ...

    `model` is a compiled nnlib Sequential; the cost is the one `fit` minimises on (X, Y):
    backprop's gradients come from `model.compute_gradients`, the numeric ones from
    `model.evaluate` with each weight nudged in place. Use float64: in float32 the centred
    differences themselves are only good to ~1e-3.
    """
    if getattr(model, "loss", None) is None:
        raise ValueError(
            "gradcheck needs a model compiled with a loss (the cost it differentiates), e.g. "
            "model.compile(optimizer=SGD(0.1), loss=BinaryCrossentropy()). "
            f"Received: model={model!r} with loss=None")
    _, analytic = model.compute_gradients(X, Y)
    params = [P for layer in model.layers for P in layer.params]  # the arrays fit updates

    def cost():
        return model.evaluate(X, Y, verbose=0)

    return max(relative_error(dP, numeric_gradient(cost, P, epsilon))
               for P, dP in zip(params, analytic, strict=True))
