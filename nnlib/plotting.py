"""Plots for the lessons: activations, loss curves, decision boundaries.

matplotlib is imported inside each function, so ``import nnlib`` stays light and works
without it. Each function draws on the given ``ax`` (or a new figure) and returns the
matplotlib ``Figure``. In a notebook, end the call with ``;`` or assign the result, so that
Jupyter does not show the figure twice.
"""

from collections.abc import Mapping, Sequence

import numpy as np

__all__ = ["plot_activations", "plot_loss_curves", "plot_decision_boundary"]


def plot_activations(names=None, z=None, ax=None):
    """Plot each activation g(z) (left panel) and its derivative g'(z) (right panel).

    Args:
        names: activation names (or functions), each looked up with
            ``nnlib.activations.get(name)``, which returns the pair ``(g, g_prime)``;
            default: every activation nnlib has (``ACTIVATIONS``), in its order.
        z: 1-D array of inputs; default 241 points evenly spaced on [-6, 6] (0 included).
        ax: optional pair of Axes ``(ax_values, ax_derivatives)`` to draw on.

    Returns:
        The Figure. Line ``i`` of each panel is ``names[i]``, labelled with its name.
    """
    import matplotlib.pyplot as plt

    from nnlib.activations import ACTIVATIONS, get

    names = tuple(ACTIVATIONS) if names is None else names
    if isinstance(names, str):
        names = (names,)
    z = np.linspace(-6.0, 6.0, 241) if z is None else np.asarray(z, dtype=np.float64)
    if z.ndim != 1 or z.size < 2:
        raise ValueError(f"z must be a 1-D array of at least 2 values. Received shape {z.shape}")

    if ax is None:
        fig, (ax_g, ax_dg) = plt.subplots(1, 2, figsize=(10, 4), layout="constrained")
    else:
        if len(ax) != 2:
            raise ValueError(f"ax must be a pair of Axes (values, derivatives). Received: {ax!r}")
        ax_g, ax_dg = ax
        fig = ax_g.figure

    for name in names:
        g, g_prime = get(name)
        label = name if isinstance(name, str) else getattr(g, "__name__", repr(name))
        ax_g.plot(z, g(z), label=label)
        ax_dg.plot(z, g_prime(z), label=f"{label}'")

    ax_g.set(title="activation a = g(z)", xlabel="z", ylabel="g(z)")
    ax_dg.set(title="derivative g'(z)", xlabel="z", ylabel="g'(z)")
    for a in (ax_g, ax_dg):
        a.grid(True, alpha=0.3)
        a.legend()
    return fig


def plot_loss_curves(histories, labels=None, ax=None, logy=False):
    """Plot the training cost per epoch for one or several runs.

    Args:
        histories: one history or a list of them. A history is an ``nnlib`` or Keras
            ``History`` (its ``.history["loss"]``), a dict with key ``"loss"``, or a plain
            sequence of floats (one per epoch).
        labels: a label (one history) or a list of labels (one per history) for the legend.
        ax: optional Axes to draw on.
        logy: use a logarithmic y axis, which shows the late, slow part of training.

    Returns:
        The Figure; history ``i`` is line ``i``, with x = 1..n (epochs) and y = its losses.
    """
    import matplotlib.pyplot as plt

    if _is_single_history(histories):
        histories = [histories]
        if isinstance(labels, str):
            labels = [labels]
    histories = list(histories)
    if not histories:
        raise ValueError("histories is empty: give at least one history to plot")
    losses = [_losses_of(h) for h in histories]
    if labels is not None:
        labels = [labels] if isinstance(labels, str) else list(labels)
        if len(labels) != len(losses):
            raise ValueError(
                f"Got {len(losses)} histories but {len(labels)} labels; give one label each"
            )

    if ax is None:
        fig, ax = plt.subplots(figsize=(6, 4), layout="constrained")
    else:
        fig = ax.figure

    for i, loss in enumerate(losses):
        epochs = np.arange(1, len(loss) + 1)
        ax.plot(epochs, loss, label=None if labels is None else labels[i])

    ax.set(xlabel="epoch", ylabel="cost J (mean loss over the examples)")
    if logy:
        ax.set_yscale("log")
    if labels is not None:
        ax.legend()
    return fig


def plot_decision_boundary(model, X, Y, ax=None, resolution=200, threshold=0.5):
    """Shade a classifier's predicted probability over the plane, with the data on top.

    Args:
        model: any object with Keras's ``predict(X, verbose=0)`` mapping a (k, 2) array to
            probabilities of shape (k, 1) or (k,), e.g. an ``nnlib`` or Keras model.
        X: array of shape (m, 2), the examples.
        Y: labels in {0, 1}, shape (m,) or (m, 1).
        ax: optional Axes to draw on.
        resolution: the grid has ``resolution x resolution`` points.
        threshold: the probability drawn as the decision boundary (a black line).

    The grid covers the data with a margin of 10% of its range on each side. Points are
    drawn in two scatter groups, ``y = 0`` then ``y = 1``.

    Returns:
        The Figure.
    """
    import matplotlib.pyplot as plt

    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 2 or X.shape[1] != 2:
        raise ValueError(
            f"X must have shape (m, 2): a decision boundary is drawn in 2-D. "
            f"Received shape {X.shape}"
        )
    m = X.shape[0]
    Y = np.asarray(Y, dtype=np.float64)
    if Y.shape not in {(m,), (m, 1)}:
        raise ValueError(f"Y must have shape ({m},) or ({m}, 1) to match X. Received {Y.shape}")
    Y = Y.reshape(m)
    if not np.all((Y == 0) | (Y == 1)):
        raise ValueError(f"Y must hold labels 0 or 1. Received values {np.unique(Y)[:10]}")
    if not callable(getattr(model, "predict", None)):
        raise TypeError(f"model must have a predict(X) method. Received: {model!r}")
    if isinstance(resolution, bool) or not isinstance(resolution, int) or resolution < 2:
        raise ValueError(f"resolution must be an integer >= 2. Received: resolution={resolution}")

    # A mesh that covers the data plus a margin, so points never sit on the edge.
    lo, hi = X.min(axis=0), X.max(axis=0)
    margin = np.where(hi > lo, 0.1 * (hi - lo), 0.5)
    x0 = np.linspace(lo[0] - margin[0], hi[0] + margin[0], resolution)
    x1 = np.linspace(lo[1] - margin[1], hi[1] + margin[1], resolution)
    xx0, xx1 = np.meshgrid(x0, x1)
    grid = np.column_stack([xx0.ravel(), xx1.ravel()])  # (k, 2), k = resolution**2

    y_hat = np.asarray(model.predict(grid, verbose=0), dtype=np.float64)
    if y_hat.size != grid.shape[0]:
        raise ValueError(
            f"model.predict on a grid of shape {grid.shape} must return shape "
            f"({grid.shape[0]}, 1) or ({grid.shape[0]},). Received shape {y_hat.shape}"
        )
    y_hat = y_hat.reshape(xx0.shape)

    if ax is None:
        fig, ax = plt.subplots(figsize=(6, 5), layout="constrained")
    else:
        fig = ax.figure

    # Probabilities get fixed levels so that colours mean the same thing in every plot.
    in_unit_range = y_hat.min() >= 0.0 and y_hat.max() <= 1.0
    levels = np.linspace(0.0, 1.0, 11) if in_unit_range else 10
    ax.contourf(xx0, xx1, y_hat, levels=levels, cmap="RdBu_r", alpha=0.35)
    # contour() warns when the level is out of range; a constant model has no boundary.
    if y_hat.min() < threshold < y_hat.max():
        ax.contour(xx0, xx1, y_hat, levels=[threshold], colors="k", linewidths=1.5)

    for label, color in ((0.0, "tab:blue"), (1.0, "tab:red")):
        mask = Y == label
        ax.scatter(X[mask, 0], X[mask, 1], c=color, edgecolors="k", s=25, label=f"y = {label:g}")
    ax.set(xlabel="x1", ylabel="x2", title=f"predicted probability; line: y_hat = {threshold:g}")
    ax.legend(loc="best")
    return fig


def _is_single_history(h):
    """True for one history; False for a list of histories."""
    if hasattr(h, "history") or isinstance(h, Mapping):
        return True
    if isinstance(h, np.ndarray):
        return h.ndim == 1
    if isinstance(h, Sequence) and not isinstance(h, str):
        # A sequence of numbers is one run; a sequence of anything else is several runs.
        return len(h) > 0 and all(isinstance(v, (int, float, np.number)) for v in h)
    return False


def _losses_of(h):
    """The list of per-epoch losses held by any of the accepted history forms."""
    if hasattr(h, "history"):
        h = h.history
    if isinstance(h, Mapping):
        if "loss" not in h:
            raise ValueError(f"A history dict needs the key 'loss'. Received keys: {list(h)}")
        h = h["loss"]
    loss = np.asarray(h, dtype=np.float64)
    if loss.ndim != 1 or loss.size == 0:
        raise ValueError(
            f"A history must hold a non-empty 1-D sequence of losses, one per epoch. "
            f"Received shape {loss.shape}"
        )
    return loss

