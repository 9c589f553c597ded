"""Live figures for a class: controls (ipywidgets) that retrain an nnlib network and redraw.

    from nncourse import live
    live.learning_rate(X, Y)          # lesson 2: the loss curve at the learning rate chosen
    live.hidden_activation(X, Y)      # lesson 3: loss curve and decision boundary per activation
    live.xor_width(X, Y)              # lesson 4: XOR's decision boundaries per hidden layer

Each function trains once, draws its figure and returns a `LiveFigure`; as the last line of a
cell it shows the figure and, below it, its controls. Moving a control retrains the network
with the new setting (a tenth of a second or so: the networks are small) and redraws the same
figure in place.

Without a front end (nbgrader grading, nbclient) nobody moves a control: the cell's outputs
are the figure, once, as a PNG, and the controls' plain-text stand-in, one line naming them
and their values. Nothing is printed, and nothing goes to stderr: a warning that training
stopped (a cost that became NaN) is caught and said in the figure's title.
"""

import io
import warnings

import numpy as np

import nnlib
from nncourse.notes import accuracy, seed_network

__all__ = ["LiveFigure", "learning_rate", "hidden_activation", "xor_width"]

LEARNING_RATES = (0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1.0, 3.0, 10.0, 30.0, 100.0)
ACTIVATIONS = ("sigmoid", "relu", "linear")


class LiveFigure:
    """A matplotlib Figure that `draw(figure, **settings)` redraws whenever a control moves.

    Attributes:
        figure: the matplotlib Figure (not registered with pyplot, so the inline backend never
            shows it on its own).
        controls: {setting name: ipywidgets widget}; a setting's value is its widget's value.
        result: what the last call of `draw` returned (the histories and models it trained).
    """

    def __init__(self, draw, controls, figsize):
        from matplotlib.figure import Figure

        self.figure = Figure(figsize=figsize, layout="constrained")
        self.controls = controls
        self._draw = draw
        self._handle = None  # the display of the figure, once shown
        self.result = None
        self.redraw()
        for widget in controls.values():
            widget.observe(lambda _change: self.redraw(), names="value")

    @property
    def settings(self):
        """{setting name: the value of its control}."""
        return {name: widget.value for name, widget in self.controls.items()}

    def redraw(self):
        """Retrain with the controls' settings, redraw the figure, update it where shown."""
        self.figure.clear()
        self.result = self._draw(self.figure, **self.settings)
        if self._handle is not None:
            self._handle.update(self._image())

    def png(self):
        """The figure as PNG bytes, as the notebook shows it."""
        buffer = io.BytesIO()
        # constrained layout already fits everything in: no "tight" bounding box, which would
        # draw the figure a second time
        self.figure.savefig(buffer, format="png")
        return buffer.getvalue()

    def _image(self):
        from IPython.display import Image

        return Image(data=self.png(), format="png")

    def _ipython_display_(self):
        """Show the figure (one image output, updated in place on a redraw), then the
        controls below it."""
        from IPython.display import display
        from ipywidgets import HBox

        self._handle = display(self._image(), display_id=True)
        widgets = list(self.controls.values())
        display(_Controls(HBox(widgets), {w.description: w.value for w in widgets}))


class _Controls:
    """The controls' box; where no widget can be shown, one line naming the controls and their
    values instead of ipywidgets' repr of the box (a Python expression, cut at 110 characters).

    settings: {the controls' descriptions: their values}.
    """

    def __init__(self, box, settings):
        self.box, self.settings = box, settings

    def _repr_mimebundle_(self, include=None, exclude=None):
        bundle = self.box._repr_mimebundle_()
        shown = ", ".join(f"{name} = {_label(value)}" for name, value in self.settings.items())
        bundle["text/plain"] = (f"Live controls: {shown}. In JupyterLab, with the kernel "
                                "running, moving them retrains the network and redraws the "
                                "figure above.")
        return bundle


# ---------------------------------------------------------------------- the three live figures


def learning_rate(X, Y, learning_rate=1.0, learning_rates=LEARNING_RATES, epochs=100,
                  batch_size=32, hidden="sigmoid", seed=0, reference=1.0):
    """The seed network's loss curve at the learning rate chosen on a slider.

    The notes' 25-15-1 network (`seed_network(hidden, seed)`: the same initial weights at
    every learning rate) trained with plain gradient descent, `SGD(learning_rate)`, and binary
    cross-entropy: `fit(X, Y, batch_size, epochs, shuffle=False)`. The cost J per epoch is
    drawn on a logarithmic axis with fixed limits, so that curves at different rates compare at
    a glance, with the curve at `reference` dashed in grey (None: no reference curve).

    Args:
        X: (m, 2) features; Y: (m, 1) labels in {0, 1}.
        learning_rate: the slider's first position, one of `learning_rates`.

    Returns:
        A LiveFigure with one control, "learning_rate". Its `result` is {"costs": the list of
        `epochs` costs at the chosen rate, "stopped": the epoch at which a NaN cost stopped
        training, or None}.
    """
    from ipywidgets import Layout, SelectionSlider

    X, Y = _check_data(X, Y)
    _check_choice("learning_rate", learning_rate, learning_rates)
    if reference is not None:
        reference_run = _fit_seed_network(X, Y, hidden, seed, reference, epochs, batch_size)

    def draw(figure, learning_rate):
        if reference is not None and learning_rate == reference:
            costs, stopped = reference_run  # the same training: no need to run it twice
        else:
            costs, stopped = _fit_seed_network(X, Y, hidden, seed, learning_rate, epochs,
                                               batch_size)
        ax = figure.subplots()
        ax.plot(np.arange(1, len(costs) + 1), costs, color="tab:blue", linewidth=2,
                label=f"learning rate {learning_rate:g}")
        if reference is not None:
            ax.plot(np.arange(1, len(reference_run[0]) + 1), reference_run[0], color="gray",
                    linestyle="--", label=f"learning rate {reference:g}\n(for comparison)")
        finite = [c for c in costs if np.isfinite(c)]
        top = max([200.0] + [1.5 * c for c in finite])
        ax.set(yscale="log", ylim=(0.05, top), xlim=(0, epochs + 1), xlabel="epoch",
               ylabel="cost J (log scale)")
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0))  # outside: curves go anywhere
        if stopped is None:
            ax.set_title(f"learning rate {learning_rate:g}: cost {costs[0]:.3g} after epoch 1, "
                         f"{costs[-1]:.3g} after epoch {epochs}")
        else:
            ax.set_title(f"learning rate {learning_rate:g}: the cost became {costs[-1]} in "
                         f"epoch {stopped}, and training stopped")
        return {"costs": costs, "stopped": stopped}

    slider = SelectionSlider(options=[(_label(r), r) for r in learning_rates],
                             value=learning_rate, description="learning rate",
                             continuous_update=False, style={"description_width": "initial"},
                             layout=Layout(width="420px"))
    return LiveFigure(draw, {"learning_rate": slider}, figsize=(8.5, 4.2))


def hidden_activation(X, Y, activation="sigmoid", activations=ACTIVATIONS, epochs=100, seed=0):
    """The seed network with the hidden activation chosen on buttons: its loss curve and its
    decision boundary.

    The notes' program exactly: `seed_network(activation, seed)` (25 and 15 hidden units with
    that activation, a sigmoid output), `compile(loss=BinaryCrossentropy())` (Keras's default
    optimizer, RMSprop(0.001)) and `fit(X, Y, epochs=epochs)` (batch_size 32, shuffled with the
    model's seed). Left: the cost per epoch, on a fixed axis from 0 to 0.8; right: the trained
    network's predicted probability over the plane, with the line y_hat = 0.5.

    Args:
        X: (m, 2) features; Y: (m, 1) labels in {0, 1}.
        activation: the button selected first, one of `activations`.

    Returns:
        A LiveFigure with one control, "activation". Its `result` is {"costs": the `epochs`
        costs, "model": the trained nnlib model, "accuracy": its accuracy on X}.
    """
    from ipywidgets import ToggleButtons

    from nnlib.plotting import plot_decision_boundary, plot_loss_curves

    X, Y = _check_data(X, Y)
    _check_choice("activation", activation, activations)

    def draw(figure, activation):
        model = seed_network(activation, seed=seed)
        model.compile(loss=nnlib.BinaryCrossentropy())  # the notes' compile: RMSprop(0.001)
        costs, stopped = _fit(model, X, Y, epochs=epochs, verbose=0)
        right = accuracy(model, X, Y)
        ax_cost, ax_map = figure.subplots(1, 2)
        plot_loss_curves(costs, labels=f"hidden layers: {activation}", ax=ax_cost)
        ax_cost.set(ylim=(0, max([0.8] + [1.05 * c for c in costs if np.isfinite(c)])),
                    title=f"cost {costs[-1]:.3f} after {len(costs)} epochs"
                          + ("" if stopped is None else " (stopped: NaN)"))
        ax_cost.grid(True, alpha=0.3)
        plot_decision_boundary(model, X, Y, ax=ax_map, resolution=100)
        ax_map.set(title=f"{activation} hidden layers: accuracy {right:.1%}",
                   xlabel="temperature (standardised)", ylabel="duration (standardised)")
        return {"costs": costs, "model": model, "accuracy": right}

    buttons = ToggleButtons(options=list(activations), value=activation,
                            description="hidden layers", style={"description_width": "initial"})
    return LiveFigure(draw, {"activation": buttons}, figsize=(11, 4.5))


def xor_width(X, Y, units=2, activation="relu", max_units=8, activations=ACTIVATIONS,
              seeds=range(8), epochs=100, learning_rate=0.1):
    """One hidden layer on XOR, trained from several starting points: a decision boundary
    each, for the width chosen on a slider and the activation chosen on buttons.

    For each seed: `Sequential([Dense(units, activation), Dense(1, "sigmoid")], seed=seed)`,
    compiled with `Adam(learning_rate)` and binary cross-entropy, trained full-batch,
    `fit(X, Y, batch_size=len(X), epochs, shuffle=False)` (as lesson 4's `build_xor_model`
    and `smallest_xor_model`). A panel per seed shows its predicted probability and the line
    y_hat = 0.5; the figure's title counts the seeds whose network classifies every example
    right.

    Args:
        X: (m, 2) features; Y: (m, 1) labels in {0, 1}.
        units: the slider's first position, from 1 to `max_units`.
        activation: the hidden layer's activation selected first, one of `activations`.

    Returns:
        A LiveFigure with two controls, "units" and "activation". Its `result` is
        {"models": the trained nnlib models, one per seed, "accuracies": their accuracies on X,
        "solved": how many classify every example right}.
    """
    from ipywidgets import IntSlider, Layout, ToggleButtons

    from nnlib.plotting import plot_decision_boundary

    X, Y = _check_data(X, Y)
    _check_choice("activation", activation, activations)
    if isinstance(max_units, bool) or not isinstance(max_units, int) or max_units < 1:
        raise ValueError(f"max_units must be an integer >= 1. Received: max_units={max_units!r}")
    _check_choice("units", units, range(1, max_units + 1))
    seeds = list(seeds)
    if not seeds:
        raise ValueError("seeds is empty: give at least one seed to train from")

    def draw(figure, units, activation):
        models, accuracies = [], []
        columns = min(4, len(seeds))
        axes = np.atleast_1d(figure.subplots(-(-len(seeds) // columns), columns)).ravel()
        for ax, seed in zip(axes[:len(seeds)], seeds, strict=True):
            model = nnlib.Sequential([nnlib.Dense(units, activation),
                                      nnlib.Dense(1, "sigmoid")], seed=seed)
            model.compile(optimizer=nnlib.Adam(learning_rate=learning_rate),
                          loss=nnlib.BinaryCrossentropy())
            _fit(model, X, Y, batch_size=len(X), epochs=epochs, shuffle=False, verbose=0)
            right = accuracy(model, X, Y)
            plot_decision_boundary(model, X, Y, ax=ax, resolution=60)
            ax.get_legend().remove()
            ax.set(title=f"seed {seed}: {right:.0%} right", xlabel="", ylabel="",
                   xticks=[], yticks=[])
            models.append(model)
            accuracies.append(right)
        for ax in axes[len(seeds):]:
            ax.set_visible(False)
        solved = sum(a == 1.0 for a in accuracies)
        figure.suptitle(f"{units} {activation} hidden unit{'s' if units > 1 else ''}: "
                        f"{solved} of {len(seeds)} starting points classify all of XOR right")
        return {"models": models, "accuracies": accuracies, "solved": solved}

    slider = IntSlider(value=units, min=1, max=max_units, description="hidden units",
                       continuous_update=False, style={"description_width": "initial"},
                       layout=Layout(width="360px"))
    buttons = ToggleButtons(options=list(activations), value=activation, description="activation",
                            style={"description_width": "initial"})
    return LiveFigure(draw, {"units": slider, "activation": buttons}, figsize=(11, 5.6))


# ---------------------------------------------------------------------- training and checks


def _fit_seed_network(X, Y, hidden, seed, learning_rate, epochs, batch_size):
    """(costs, stopped) of the seed network trained with SGD(learning_rate), shuffle=False."""
    model = seed_network(hidden, seed=seed)
    model.compile(optimizer=nnlib.SGD(learning_rate=learning_rate),
                  loss=nnlib.BinaryCrossentropy())
    return _fit(model, X, Y, batch_size=batch_size, epochs=epochs, shuffle=False, verbose=0)


def _fit(model, X, Y, **fit_arguments):
    """(costs, stopped): the costs per epoch of model.fit, and the epoch at which a NaN or
    infinite cost stopped training (None if none did). nnlib's warning about it would go to
    stderr; the figure says it instead."""
    with warnings.catch_warnings(record=True):
        warnings.simplefilter("always")
        costs = model.fit(X, Y, **fit_arguments).history["loss"]
    stopped = len(costs) if costs and not np.isfinite(costs[-1]) else None
    return costs, stopped


def _check_data(X, Y):
    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 2 or X.shape[1] != 2 or len(X) == 0:
        raise ValueError(f"X must have shape (m, 2): two features, drawn in the plane. "
                         f"Received shape {X.shape}")
    Y = np.asarray(Y, dtype=np.float64)
    if Y.shape not in {(len(X),), (len(X), 1)}:
        raise ValueError(f"Y must have shape ({len(X)}, 1) to match X. Received shape {Y.shape}")
    return X, Y.reshape(len(X), 1)


def _check_choice(name, value, choices):
    if isinstance(value, bool) or value not in list(choices):
        raise ValueError(f"{name} must be one of {[_label(c) for c in choices]}. "
                         f"Received: {name}={value!r}")


def _label(value):
    """How a setting reads: 0.001, 1, 30, relu."""
    return f"{value:g}" if isinstance(value, float) else str(value)
