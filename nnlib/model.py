"""Sequential: a stack of Dense layers trained by mini-batch gradient descent, as in Keras.

    model = Sequential([Dense(25, "relu"), Dense(15, "relu"), Dense(1, "sigmoid")])
    model.compile(optimizer=SGD(0.1), loss=BinaryCrossentropy())  # default optimizer: RMSprop
    history = model.fit(X, Y, batch_size=32, epochs=100)  # X (m, n_features), Y (m, 1) or (m,)
    y_hat = model.predict(X, verbose=0)                   # (m, 1)

Arguments come in Keras's positional order, with Keras's defaults:
compile(optimizer="rmsprop", loss=None), fit(x, y, batch_size=None, epochs=1, verbose="auto"),
predict(x, batch_size=None, verbose="auto"), evaluate(x, y, batch_size=None, verbose="auto"),
so a program written for nnlib runs on tensorflow.keras unchanged, and the other way round.
"""

import math
import warnings

import numpy as np

from nnlib import losses, optimizers
from nnlib.layers import Dense, Input

_NO_LABELS = object()  # predict's "no Y", as distinct from a Y that is None by mistake


class History:
    """What `fit` returns: `history.history["loss"]` holds one cost per epoch."""

    def __init__(self):
        self.history = {"loss": []}
        self.epoch = []

    def __repr__(self):
        return f"History(epochs={len(self.epoch)})"


class Sequential:
    """A feed-forward network: the output of each layer is the input of the next.

    layers: Dense layers, optionally preceded by Input(shape=(n_features,)).
    seed:   makes weight initialisation and shuffling reproducible.
    dtype:  "float64" (default) or "float32".
    """

    def __init__(self, layers=None, seed=None, dtype="float64", name="sequential"):
        self.dtype = np.dtype(dtype)
        if self.dtype not in (np.float32, np.float64):
            raise ValueError(f"dtype must be 'float32' or 'float64'. Received: dtype={dtype!r}")
        self.rng = np.random.default_rng(seed)
        self.name = name
        self.layers = []
        self.n_features = None
        self.loss = self.optimizer = None
        for layer in layers or []:
            self.add(layer)

    # ---------------------------------------------------------------- building

    def add(self, layer):
        """Append a Dense layer (or start with an Input)."""
        if isinstance(layer, Input):
            if self.layers or self.n_features is not None:
                raise ValueError("Input(...) can only be the first element of a Sequential.")
            self.build((None, *layer.shape))
            return
        if not isinstance(layer, Dense):
            raise TypeError(f"Sequential takes Dense layers. Received: {layer!r}")
        if layer.name is None:
            layer.name = "dense" if not self.layers else f"dense_{len(self.layers)}"
        self.layers.append(layer)
        if self.n_features is not None:
            n_in = self.layers[-2].units if len(self.layers) > 1 else self.n_features
            layer.build(n_in, self.rng, self.dtype)

    def build(self, input_shape):
        """Create every layer's weights for inputs of shape (None, n_features)."""
        n_features = input_shape[-1] if isinstance(input_shape, tuple | list) \
            and input_shape else None
        if isinstance(n_features, bool) or not isinstance(n_features, int | np.integer) \
                or n_features < 1:
            raise ValueError(
                f"input_shape must be (None, n_features) with n_features >= 1. "
                f"Received: input_shape={input_shape!r}"
            )
        self.n_features = int(n_features)
        n_in = self.n_features
        for layer in self.layers:
            layer.build(n_in, self.rng, self.dtype)
            n_in = layer.units

    @property
    def built(self):
        return self.n_features is not None

    def compile(self, optimizer="rmsprop", loss=None):
        """Choose the optimizer (an object or a name; Keras's default "rmsprop") and the loss
        (an object or a name), in Keras's order: compile(optimizer, loss)."""
        if isinstance(optimizer, losses.Loss) and not isinstance(loss, losses.Loss):
            raise ValueError(
                f"compile's first argument is the optimizer, as in Keras: "
                f"compile(optimizer=..., loss=...). Received: optimizer={optimizer!r}, "
                f"loss={loss!r}. Write model.compile(loss={optimizer!r}) for the default "
                f"optimizer.")
        self.optimizer = optimizers.get(optimizer)
        self.loss = None if loss is None else losses.get(loss)

    # ---------------------------------------------------------------- training

    def fit(self, x, y, batch_size=None, epochs=1, verbose="auto", *, shuffle=True, seed=None):
        """Train for `epochs` passes over (x, y); return a History of the cost per epoch.

        x: (m, n_features); y: (m, units), or (m,) for one unit. Each epoch takes
        ceil(m / batch_size) gradient steps (batch_size None: Keras's 32); the last batch may
        be smaller. With batch_size >= m an epoch is one step of full-batch gradient descent.
        The recorded cost of an epoch is the size-weighted mean of its batch costs, each
        computed before that batch's update (what Keras reports). verbose "auto", 1 or 2
        prints the cost of each epoch, 0 nothing. shuffle=True reorders the examples every
        epoch, from `seed` if given, else from the model's seed (keywords only: Keras has
        other arguments in those places).
        """
        self._check_compiled("fit")
        X, Y = self._check_data(x, y)
        _check_count("epochs", epochs, minimum=0)
        batch_size = _check_batch_size(batch_size)
        verbose = _check_verbose(verbose)
        rng = self.rng if seed is None else np.random.default_rng(seed)
        params = [p for layer in self.layers for p in layer.params]
        grads = [g for layer in self.layers for g in layer.grads]
        self.optimizer.build(params)  # refuses an optimizer that trains another model
        history = History()
        with np.errstate(over="ignore", invalid="ignore"):  # divergence shows as NaN, below
            for epoch in range(epochs):
                if shuffle:
                    order = rng.permutation(len(X))
                    cost, bad_batch = self._train_epoch(X[order], Y[order], batch_size,
                                                        params, grads)
                else:
                    cost, bad_batch = self._train_epoch(X, Y, batch_size, params, grads)
                history.epoch.append(epoch)
                history.history["loss"].append(cost)
                if verbose:
                    print(f"Epoch {epoch + 1}/{epochs} - loss: {cost:.4f}")
                if bad_batch is not None:
                    warnings.warn(
                        f"Epoch {epoch + 1}, batch {bad_batch}: the loss became {cost}, so "
                        "training stopped (as Keras's TerminateOnNaN does). The steps are "
                        "probably too large: try a smaller learning_rate, or scale the features.",
                        RuntimeWarning, stacklevel=2,
                    )
                    break
        return history

    def _train_epoch(self, X, Y, batch_size, params, grads):
        """One pass of mini-batch steps over (X, Y) in order; batches are views, not copies.

        Returns (cost, None), the size-weighted mean of the batch costs, or (cost, k) when
        batch k's cost is NaN or infinite (no step is taken from it).
        """
        total = 0.0
        for k, start in enumerate(range(0, len(X), batch_size), start=1):
            Xb, Yb = X[start:start + batch_size], Y[start:start + batch_size]
            self._forward(Xb)
            cost = self._cost(Yb)
            if not math.isfinite(cost):
                return cost, k
            self._backward(Yb)
            self.optimizer.step(params, grads)
            total += cost * len(Xb)
        return total / len(X), None

    def predict(self, x, batch_size=None, verbose="auto"):
        """The network's output for x (m, n_features): shape (m, units of the last layer).

        Computed batch_size examples at a time (None: all at once; the values are the same).
        verbose is accepted as Keras's is; nnlib draws no progress bar, so nothing is printed.
        """
        X, _ = self._check_data(x)
        _check_verbose(verbose)
        if batch_size is None:
            return self._forward(X).copy()
        size = _check_batch_size(batch_size)
        # concatenate copies each batch's output out of the layers' cache
        return np.concatenate([self._forward(X[i:i + size]) for i in range(0, len(X), size)])

    def evaluate(self, x, y, batch_size=None, verbose="auto"):
        """The cost J on (x, y), computed as in training (from the logit for sigmoid + BCE).

        J is the mean loss over all m examples; Keras's size-weighted mean of batch means is
        the same number, so batch_size is only checked. verbose is accepted as Keras's is;
        nothing is printed.
        """
        self._check_compiled("evaluate")
        X, Y = self._check_data(x, y)
        _check_batch_size(batch_size)
        _check_verbose(verbose)
        self._forward(X)
        return self._cost(Y)

    def compute_gradients(self, x, y):
        """The cost J of (x, y) and its gradients, as one training step computes them.

        x: (m, n_features); y: (m, units) or (m,). Returns (J, [dW1, db1, dW2, db2, ...]):
        J a float, the gradients copies in `get_weights()` order, dW: (n_in, units),
        db: (units,). Nothing is updated: it is what `fit` would hand the optimizer.
        """
        self._check_compiled("compute_gradients")
        X, Y = self._check_data(x, y)
        self._forward(X)
        cost = self._cost(Y)
        self._backward(Y)
        return cost, [g.copy() for layer in self.layers for g in layer.grads]

    # ---------------------------------------------------------------- the three passes

    def _forward(self, X):
        for layer in self.layers:
            X = layer.forward(X)
        return X

    @property
    def _bce_from_logit(self):
        # Keras computes BCE after a sigmoid from the sigmoid's input z: exact, never clipped.
        return (isinstance(self.loss, losses.BinaryCrossentropy) and not self.loss.from_logits
                and self.layers[-1].activation == "sigmoid")

    def _cost(self, Y):
        """The cost of the last forward pass against labels Y (m, units)."""
        last = self.layers[-1]
        if self._bce_from_logit:
            L = losses.bce_from_logits_elementwise(Y, last.Z)
            return float(L.sum() / L.size)
        return self.loss(Y, last.A)

    def _backward(self, Y):
        """Fill every layer's dW, db with the gradient of the cost of the last forward pass."""
        last = self.layers[-1]
        if self._bce_from_logit:
            dZ = (last.A - Y) / Y.size  # d/dz of the logit form of BCE: sigmoid(z) - y
        else:
            dZ = self.loss.gradient(Y, last.A) * last.g_prime(last.Z, last.A)
        dA = last.backward_from_z(dZ, need_dX=len(self.layers) > 1)
        for i in range(len(self.layers) - 2, -1, -1):
            dA = self.layers[i].backward(dA, need_dX=i > 0)

    # ---------------------------------------------------------------- checks

    def _check_compiled(self, method):
        if self.optimizer is None:
            raise RuntimeError(
                f"You must call compile() before {method}(), "
                "e.g. model.compile(optimizer=SGD(0.1), loss=BinaryCrossentropy()).")
        if self.loss is None:
            raise ValueError(
                f"{method}() needs a loss, and compile() was given none (loss=None). "
                "Call e.g. model.compile(optimizer=SGD(0.1), loss=BinaryCrossentropy()).")

    def _check_data(self, X, Y=_NO_LABELS):
        """Return X (m, n_features) and Y (m, units) as arrays of the model's dtype
        (Y: None when the caller has no labels, as predict)."""
        if not self.layers:
            raise ValueError("The model has no layers: give Sequential a list of Dense layers.")
        X = _as_float_array("X", X, self.dtype)
        if X.ndim != 2:
            hint = " For one feature, use X.reshape(-1, 1)." if X.ndim == 1 else ""
            raise ValueError(f"X must be 2-D, (m, n_features). Received: X.shape={X.shape}.{hint}")
        if len(X) == 0:
            raise ValueError(f"X has no examples (m = 0). Received: X.shape={X.shape}")
        if not self.built:
            self.build((None, X.shape[1]))
        if X.shape[1] != self.n_features:
            raise ValueError(
                f"X has {X.shape[1]} features (columns) but the model expects "
                f"{self.n_features}: X must have shape (m, {self.n_features}). "
                f"Received: X.shape={X.shape}"
            )
        if Y is _NO_LABELS:
            return X, None
        Y = _as_float_array("Y", Y, self.dtype)
        units = self.layers[-1].units
        if Y.ndim == 1 and units == 1:
            Y = Y.reshape(-1, 1)
        if Y.ndim != 2 or Y.shape[1] != units:
            raise ValueError(
                f"Y must have shape (m, {units}) to match the last layer's {units} unit(s)"
                f"{' or (m,)' if units == 1 else ''}. Received: Y.shape={Y.shape}"
            )
        if len(Y) != len(X):
            raise ValueError(
                f"X and Y must have the same number of examples m. "
                f"Received: {len(X)} rows in X and {len(Y)} in Y."
            )
        if isinstance(self.loss, losses.BinaryCrossentropy) and ((Y < 0) | (Y > 1)).any():
            raise ValueError(
                "Binary cross-entropy needs labels in [0, 1]. Received labels from "
                f"{Y.min():g} to {Y.max():g}."
            )
        return X, Y

    # ---------------------------------------------------------------- weights

    def get_weights(self):
        """Copies of [W1, b1, W2, b2, ...]; W: (n_in, units), b: (units,)."""
        return [p.copy() for layer in self.layers if layer.built for p in layer.params]

    def set_weights(self, weights):
        """Overwrite the weights from a list shaped like `get_weights()` (e.g. from Keras)."""
        weights = [np.asarray(w) for w in weights]
        if not self.built and weights and weights[0].ndim == 2:
            self.build((None, weights[0].shape[0]))
        expected = [p.shape for layer in self.layers if layer.built for p in layer.params]
        received = [w.shape for w in weights]
        if expected != received:
            raise ValueError(
                f"set_weights expects {len(expected)} arrays of shapes {expected}. "
                f"Received {len(received)} arrays of shapes {received}."
            )
        for layer in self.layers:
            layer.W[...] = weights.pop(0)
            layer.b[...] = weights.pop(0)

    def count_params(self):
        return sum(p.size for p in self.get_weights())

    def summary(self, print_fn=print):
        """Print each layer's output shape and number of parameters, as Keras does."""
        rows = [("Layer (type)", "Output Shape", "Param #")]
        for layer in self.layers:
            n = sum(p.size for p in layer.params) if layer.built else 0
            rows.append((f"{layer.name} (Dense, {layer.activation})", f"(None, {layer.units})",
                         str(n) if layer.built else "0 (unbuilt)"))
        widths = [max(len(r[i]) for r in rows) + 2 for i in range(3)]
        line = "-" * sum(widths)
        text = [f'Model: "{self.name}"', line]
        text += ["".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) for r in rows[:1]]
        text.append(line)
        text += ["".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) for r in rows[1:]]
        text += [line, f"Total params: {self.count_params()}"]
        print_fn("\n".join(text))


def _as_float_array(name, values, dtype):
    if values is None:
        raise ValueError(f"{name} must be an array of numbers. Received: {name}=None")
    try:
        array = np.asarray(values, dtype=dtype)
    except (TypeError, ValueError) as error:
        raise ValueError(f"{name} must be an array of numbers. ({error})") from None
    if not np.isfinite(array).all():
        rows = np.unique(np.argwhere(~np.isfinite(np.atleast_1d(array)))[:, 0])[:5]
        raise ValueError(f"{name} contains NaN or inf (first rows: {rows.tolist()}).")
    return array


def _check_batch_size(batch_size):
    """batch_size as an int (None: Keras's default, 32), or a ValueError."""
    if batch_size is None:
        return 32
    _check_count("batch_size", batch_size, minimum=1)
    return int(batch_size)


def _check_verbose(verbose):
    """verbose as Keras takes it: "auto" (which is 1 here), 0, 1 or 2; returns an int."""
    if isinstance(verbose, str) and verbose == "auto":
        return 1
    if not isinstance(verbose, bool) and verbose in (0, 1, 2):
        return int(verbose)
    raise ValueError(f'verbose must be "auto", 0, 1 or 2. Received: verbose={verbose!r}')


def _check_count(name, value, minimum):
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < minimum:
        raise ValueError(
            f"{name} must be an integer >= {minimum}. Received: {name}={value!r}"
        )
