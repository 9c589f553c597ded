"""Optimizers: given parameters P and their gradients dP, update P in place.

Each follows the update rule of Keras 3 exactly, so that nnlib and TensorFlow train the
same network to the same weights. State (velocities, moments) is created on the first step,
one array per parameter, in the parameter's dtype.
"""

import numpy as np


class Optimizer:
    """Base class: validates the learning rate, counts steps (Keras's `iterations`) and keeps
    one model's per-parameter state.

    An optimizer belongs to the parameters it first trained, as in Keras: its state
    (velocities, moments) is per parameter, so a second model needs an optimizer of its own.
    """

    def __init__(self, learning_rate):
        self.learning_rate = _check_number("learning_rate", learning_rate)
        self.iterations = 0
        self._params = None  # the arrays it trains, fixed by the first build()
        self._slots = None   # their state, one tuple of arrays per parameter
        self._checked = None  # the list of parameters last checked by build()

    def build(self, params):
        """Bind the optimizer to `params` (a list of arrays) and create their state.

        Refuses a different list of arrays later (another model's weights), with the
        message Keras would give in its own words: sharing would mix two models' state.
        """
        if self._params is None:
            self._params = list(params)
            self._slots = [self._new_slots(p) for p in params]
        elif len(params) != len(self._params) or \
                any(p is not q for p, q in zip(params, self._params, strict=False)):
            name = type(self).__name__
            raise ValueError(
                f"This {name} optimizer already trains another model's weights: an optimizer "
                f"keeps state for the weights it was first used with (as in Keras), so each "
                f"model needs its own. Received: weights of shapes {[p.shape for p in params]}; "
                f"built for {[p.shape for p in self._params]}. Give the second model a new "
                f"optimizer, e.g. model.compile(optimizer={name}(...), loss=...).")
        self._checked = params

    def step(self, params, grads):
        """Update each array in `params` in place from the matching array in `grads`."""
        if params is not self._checked:  # fit passes the same list for a whole epoch
            self.build(params)
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
        self.momentum = _check_number("momentum", momentum, low=0.0, high=1.0)

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
        self.rho = _check_number("rho", rho, low=0.0, high=1.0)
        self.epsilon = _check_number("epsilon", epsilon, low=0.0)

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
        self.beta_1 = _check_number("beta_1", beta_1, low=0.0, high=1.0)
        self.beta_2 = _check_number("beta_2", beta_2, low=0.0, high=1.0)
        self.epsilon = _check_number("epsilon", epsilon, low=0.0)

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


def _check_number(name, value, low=None, high=None):
    """`value` as a Python float (so float32 weights stay float32), or a ValueError that names
    the argument, the range expected and the value received. Python and NumPy real numbers
    are numbers; True and False are not (SGD(True) is a mistake, not a learning rate of 1)."""
    number = isinstance(value, int | float | np.integer | np.floating) and \
        not isinstance(value, bool)
    if number and np.isfinite(value) and (low is None or value >= low) and \
            (high is None or value <= high):
        return float(value)
    expected = ("a finite number" if low is None else
                f"a number >= {low:g}" if high is None else f"a number in [{low:g}, {high:g}]")
    raise ValueError(f"{name} must be {expected}. Received: {name}={value!r}")
