"""Optimizers: given parameters P and their gradients dP, update P in place.

Each follows the update rule of Keras 3 exactly, so that nnlib and TensorFlow train the
same network to the same weights. State (velocities, moments) is created on the first step,
one array per parameter, in the parameter's dtype.
"""

import numpy as np


class Optimizer:
    """Base class: validates the learning rate and counts steps (Keras's `iterations`)."""

    def __init__(self, learning_rate):
        _check_positive(learning_rate=learning_rate)
        self.learning_rate = learning_rate
        self.iterations = 0
        self._slots = None  # per-parameter state, built on the first step

    def step(self, params, grads):
        """Update each array in `params` in place from the matching array in `grads`."""
        if self._slots is None:
            self._slots = [self._new_slots(p) for p in params]
        self.iterations += 1
        for p, g, slots in zip(params, grads, self._slots, strict=True):
            self._update(p, g, *slots)

    def _new_slots(self, p):
        return ()

    def _update(self, p, g, *slots):
        raise NotImplementedError


class SGD(Optimizer):
    """Gradient descent: w -= learning_rate * g.

    With momentum (Keras's form): v = momentum * v - learning_rate * g;  w += v.
    Keras multiplies by momentum rounded to float32 (0.9 -> 0.89999998), even in float64
    mode, so we do too: it changes the weights by ~1e-7 over a hundred steps.
    """

    def __init__(self, learning_rate=0.01, momentum=0.0):
        super().__init__(learning_rate)
        if not 0 <= momentum <= 1:
            raise ValueError(f"momentum must be in [0, 1]. Received: momentum={momentum}")
        self.momentum = momentum

    def _new_slots(self, p):
        return (np.zeros_like(p),) if self.momentum else ()

    def _update(self, p, g, v=None):
        if v is None:
            p -= self.learning_rate * g
        else:
            v *= np.float32(self.momentum).item()
            v -= self.learning_rate * g
            p += v


class RMSprop(Optimizer):
    """RMSprop (Keras's default in `compile()`): divide the step by a running RMS of g.

    v = rho * v + (1 - rho) * g**2;   w -= learning_rate * g / sqrt(v + epsilon)
    (epsilon inside the square root, as Keras does).
    """

    def __init__(self, learning_rate=0.001, rho=0.9, epsilon=1e-7):
        super().__init__(learning_rate)
        self.rho = rho
        self.epsilon = epsilon

    def _new_slots(self, p):
        return (np.zeros_like(p),)

    def _update(self, p, g, v):
        v[...] = self.rho * v + (1 - self.rho) * np.square(g)
        p -= self.learning_rate * g / np.sqrt(v + self.epsilon)


class Adam(Optimizer):
    """Adam with Keras's bias correction folded into the step size.

    m += (g - m) * (1 - beta_1);   v += (g**2 - v) * (1 - beta_2)
    alpha = learning_rate * sqrt(1 - beta_2**t) / (1 - beta_1**t)
    w -= alpha * m / (sqrt(v) + epsilon)
    Keras computes beta**t with the betas rounded to float32 (even in float64 mode), so we do.
    """

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7):
        super().__init__(learning_rate)
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon

    def step(self, params, grads):
        t = self.iterations + 1
        b1_t = np.float64(np.float32(self.beta_1)) ** t
        b2_t = np.float64(np.float32(self.beta_2)) ** t
        # a Python float, so that float32 parameters stay float32
        self._alpha = float(self.learning_rate * np.sqrt(1 - b2_t) / (1 - b1_t))
        super().step(params, grads)

    def _new_slots(self, p):
        return (np.zeros_like(p), np.zeros_like(p))

    def _update(self, p, g, m, v):
        m += (g - m) * (1 - self.beta_1)
        v += (np.square(g) - v) * (1 - self.beta_2)
        p -= self._alpha * m / (np.sqrt(v) + self.epsilon)


OPTIMIZERS = {"sgd": SGD, "rmsprop": RMSprop, "adam": Adam}


def get(optimizer):
    """An Optimizer from an Optimizer object, None (Keras's default RMSprop), or a name."""
    if optimizer is None:
        return RMSprop()
    if isinstance(optimizer, Optimizer):
        return optimizer
    if isinstance(optimizer, str) and optimizer.lower() in OPTIMIZERS:
        return OPTIMIZERS[optimizer.lower()]()
    raise ValueError(
        f"Unknown optimizer. Expected an Optimizer object (SGD(), RMSprop(), Adam()) or one of "
        f"{sorted(OPTIMIZERS)}. Received: optimizer={optimizer!r}"
    )


def _check_positive(**kwargs):
    for name, value in kwargs.items():
        if not (isinstance(value, int | float) and np.isfinite(value) and value > 0):
            raise ValueError(f"{name} must be a positive number. Received: {name}={value!r}")
