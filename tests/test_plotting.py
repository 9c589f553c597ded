"""Tests for nnlib.plotting against the real matplotlib (Agg backend).

They inspect the drawn artists: the lines' data, the legend, the contour's extent and the
scatter's points. Models are small stand-ins with a real predict(X, verbose), not nnlib.model.
"""

import os
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.collections import PathCollection
from matplotlib.contour import ContourSet

import nnlib.plotting
from nnlib.activations import ACTIVATIONS
from nnlib.plotting import plot_activations, plot_decision_boundary, plot_loss_curves

# Draw off-screen, whatever MPLBACKEND says, so the tests never open a window.
plt.switch_backend("Agg")


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def _saves_png(fig, path):
    fig.savefig(path)
    data = path.read_bytes()
    return len(data) > 1000 and data[:8] == b"\x89PNG\r\n\x1a\n"


def _legend_texts(ax):
    legend = ax.get_legend()
    assert legend is not None, "the axes has no legend"
    return [t.get_text() for t in legend.get_texts()]


class LogisticModel:
    """y_hat = sigmoid(X @ w + b); records every X it is asked to predict."""

    def __init__(self, w=(2.0, -1.0), b=0.5, flat=False):
        self.w = np.asarray(w, dtype=float)
        self.b = b
        self.flat = flat
        self.calls = []

    def predict(self, X, verbose="auto"):
        assert verbose == 0, "predict was not asked to be quiet (Keras would draw a progress bar)"
        self.calls.append(np.array(X))
        y_hat = 1.0 / (1.0 + np.exp(-(X @ self.w + self.b)))
        return y_hat if self.flat else y_hat.reshape(-1, 1)


def _two_class_data(m=60, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(m, 2)) * [1.5, 0.7] + [3.0, -2.0]
    Y = (X @ [2.0, -1.0] + 0.5 > 8.0).astype(float).reshape(m, 1)
    return X, Y


# --- plot_activations --------------------------------------------------------------------


def test_activations_has_a_values_panel_and_a_derivatives_panel(tmp_path):
    fig = plot_activations()
    assert len(fig.axes) == 2
    values, derivatives = fig.axes
    assert len(values.get_lines()) == 3 and len(derivatives.get_lines()) == 3
    assert _legend_texts(values) == list(ACTIVATIONS)
    assert _legend_texts(derivatives) == [f"{name}'" for name in ACTIVATIONS]
    assert _saves_png(fig, tmp_path / "activations.png")


def test_activations_default_z_spans_minus_6_to_6_and_contains_0():
    fig = plot_activations()
    z = fig.axes[0].get_lines()[0].get_xdata()
    assert z[0] == -6.0 and z[-1] == 6.0
    assert 0.0 in z


def test_activation_lines_hold_the_values_of_g_and_g_prime():
    fig = plot_activations()
    values, derivatives = fig.axes
    z = values.get_lines()[0].get_xdata()
    s = 1.0 / (1.0 + np.exp(-z))  # computed here, independently of nnlib
    expected_g = {"sigmoid": s, "relu": np.maximum(z, 0.0), "linear": z}
    expected_dg = {"sigmoid": s * (1 - s), "relu": (z > 0).astype(float), "linear": np.ones_like(z)}
    for line in values.get_lines():
        np.testing.assert_allclose(line.get_ydata(), expected_g[line.get_label()], atol=1e-12)
    for line in derivatives.get_lines():
        name = line.get_label().rstrip("'")
        np.testing.assert_allclose(line.get_ydata(), expected_dg[name], atol=1e-12)


def test_activations_accepts_custom_z_and_a_single_name():
    z = np.array([-2.0, 0.0, 3.0])
    fig = plot_activations("relu", z=z)
    values, derivatives = fig.axes
    (line,) = values.get_lines()
    np.testing.assert_array_equal(line.get_xdata(), z)
    np.testing.assert_array_equal(line.get_ydata(), [0.0, 0.0, 3.0])
    # ReLU's derivative at 0 is 0, as in TensorFlow.
    np.testing.assert_array_equal(derivatives.get_lines()[0].get_ydata(), [0.0, 0.0, 1.0])


def test_activations_draws_on_given_axes():
    fig, axes = plt.subplots(1, 2)
    returned = plot_activations(["sigmoid"], ax=axes)
    assert returned is fig
    assert len(axes[0].get_lines()) == 1 and len(axes[1].get_lines()) == 1


def test_activations_rejects_unknown_name():
    with pytest.raises(ValueError, match="tanh"):
        plot_activations(["tanh"])


def test_activations_rejects_a_single_axes():
    _, ax = plt.subplots()
    with pytest.raises((ValueError, TypeError)):
        plot_activations(ax=ax)


# --- plot_loss_curves --------------------------------------------------------------------


LOSSES = [0.9, 0.6, 0.45, 0.4, 0.38]


@pytest.mark.parametrize(
    "history",
    [
        LOSSES,
        tuple(LOSSES),
        np.array(LOSSES),
        {"loss": LOSSES},
        SimpleNamespace(history={"loss": LOSSES}),  # the shape of nnlib's and Keras's History
    ],
    ids=["list", "tuple", "array", "dict", "History"],
)
def test_loss_curve_x_is_epochs_and_y_is_the_losses(history, tmp_path):
    fig = plot_loss_curves(history)
    (ax,) = fig.axes
    (line,) = ax.get_lines()
    np.testing.assert_array_equal(line.get_xdata(), [1, 2, 3, 4, 5])
    np.testing.assert_array_equal(line.get_ydata(), LOSSES)
    assert ax.get_xlabel() == "epoch"
    assert "cost" in ax.get_ylabel() or "loss" in ax.get_ylabel()
    assert ax.get_legend() is None  # no labels given
    assert _saves_png(fig, tmp_path / "loss.png")


def test_several_loss_curves_with_labels_in_the_legend():
    runs = [[1.0, 0.5, 0.2], {"loss": [2.0, 1.0]}, SimpleNamespace(history={"loss": [0.7] * 4})]
    fig = plot_loss_curves(runs, labels=["sgd", "rmsprop", "adam"])
    ax = fig.axes[0]
    lines = ax.get_lines()
    assert len(lines) == 3
    np.testing.assert_array_equal(lines[1].get_xdata(), [1, 2])
    np.testing.assert_array_equal(lines[1].get_ydata(), [2.0, 1.0])
    np.testing.assert_array_equal(lines[2].get_xdata(), [1, 2, 3, 4])
    assert _legend_texts(ax) == ["sgd", "rmsprop", "adam"]


def test_a_single_history_takes_a_string_label():
    fig = plot_loss_curves({"loss": LOSSES}, labels="relu net")
    assert _legend_texts(fig.axes[0]) == ["relu net"]


def test_loss_curve_logy_and_given_axes():
    fig, ax = plt.subplots()
    assert plot_loss_curves(LOSSES, ax=ax, logy=True) is fig
    assert ax.get_yscale() == "log"
    assert len(ax.get_lines()) == 1


def test_loss_curve_default_y_axis_is_linear():
    assert plot_loss_curves(LOSSES).axes[0].get_yscale() == "linear"


@pytest.mark.parametrize(
    "histories, labels, message",
    [
        ([[1.0, 0.5], [0.3]], ["only one"], "2 histories but 1 labels"),
        ([], None, "empty"),
        ({"accuracy": [0.5]}, None, "key 'loss'"),
        ({"loss": []}, None, "non-empty"),
    ],
)
def test_loss_curve_errors(histories, labels, message):
    with pytest.raises(ValueError, match=message):
        plot_loss_curves(histories, labels=labels)


# --- plot_decision_boundary --------------------------------------------------------------


def test_decision_boundary_contour_covers_the_data_and_scatter_has_m_points(tmp_path):
    X, Y = _two_class_data(m=60)
    fig = plot_decision_boundary(LogisticModel(), X, Y)
    (ax,) = fig.axes

    filled = [c for c in ax.collections if isinstance(c, ContourSet) and c.filled]
    assert len(filled) == 1
    vertices = np.concatenate([p.vertices for p in filled[0].get_paths() if len(p.vertices)])
    assert np.all(vertices.min(axis=0) < X.min(axis=0)), "contour does not reach the data's min"
    assert np.all(vertices.max(axis=0) > X.max(axis=0)), "contour does not reach the data's max"

    scatters = [c for c in ax.collections if type(c) is PathCollection]
    assert sum(len(s.get_offsets()) for s in scatters) == 60
    by_label = {t: s for t, s in zip(_legend_texts(ax), scatters, strict=True)}
    np.testing.assert_array_equal(by_label["y = 1"].get_offsets(), X[Y[:, 0] == 1])
    np.testing.assert_array_equal(by_label["y = 0"].get_offsets(), X[Y[:, 0] == 0])
    assert _saves_png(fig, tmp_path / "boundary.png")


def test_decision_boundary_predicts_on_a_grid_around_the_data():
    X, Y = _two_class_data(m=40)
    model = LogisticModel()
    plot_decision_boundary(model, X, Y, resolution=50)
    (grid,) = model.calls
    assert grid.shape == (50 * 50, 2)
    assert np.all(grid.min(axis=0) < X.min(axis=0)) and np.all(grid.max(axis=0) > X.max(axis=0))


def test_decision_boundary_line_is_where_the_model_says_one_half():
    X, Y = _two_class_data(m=80)
    model = LogisticModel(w=(2.0, -1.0), b=-8.0)
    fig = plot_decision_boundary(model, X, Y, resolution=100)
    ax = fig.axes[0]
    (line,) = [c for c in ax.collections if isinstance(c, ContourSet) and not c.filled]
    np.testing.assert_allclose(line.levels, [0.5])
    vertices = np.concatenate([p.vertices for p in line.get_paths() if len(p.vertices)])
    # sigmoid(score) = 0.5 exactly where score = 0; the contour is interpolated on the grid.
    score = vertices @ model.w + model.b
    assert np.abs(score).max() < 0.05


def test_decision_boundary_uses_the_threshold():
    X, Y = _two_class_data(m=80)
    fig = plot_decision_boundary(LogisticModel(b=-8.0), X, Y, threshold=0.8)
    (line,) = [c for c in fig.axes[0].collections if isinstance(c, ContourSet) and not c.filled]
    np.testing.assert_allclose(line.levels, [0.8])


def test_decision_boundary_accepts_flat_predictions_and_flat_labels():
    X, Y = _two_class_data(m=30)
    fig = plot_decision_boundary(LogisticModel(flat=True), X, Y.ravel())
    scatters = [c for c in fig.axes[0].collections if type(c) is PathCollection]
    assert sum(len(s.get_offsets()) for s in scatters) == 30


def test_decision_boundary_draws_on_given_axes():
    X, Y = _two_class_data()
    fig, (left, right) = plt.subplots(1, 2)
    assert plot_decision_boundary(LogisticModel(), X, Y, ax=right) is fig
    assert len(right.collections) > 0 and len(left.collections) == 0


@pytest.mark.parametrize("shape", [(10,), (10, 1), (10, 3), (2, 5, 2)])
def test_decision_boundary_rejects_X_that_is_not_m_by_2(shape):
    with pytest.raises(ValueError, match=r"X must have shape \(m, 2\)"):
        plot_decision_boundary(LogisticModel(), np.zeros(shape), np.zeros(10))


def test_decision_boundary_rejects_Y_of_the_wrong_length():
    X, _ = _two_class_data(m=10)
    with pytest.raises(ValueError, match=r"Y must have shape \(10,\) or \(10, 1\)"):
        plot_decision_boundary(LogisticModel(), X, np.zeros(9))


def test_decision_boundary_rejects_labels_other_than_0_and_1():
    X, _ = _two_class_data(m=10)
    with pytest.raises(ValueError, match="labels 0 or 1"):
        plot_decision_boundary(LogisticModel(), X, np.full(10, 2.0))


def test_decision_boundary_rejects_predictions_of_the_wrong_size():
    class HalfModel:
        def predict(self, X, verbose="auto"):
            return np.zeros((len(X) // 2, 1))

    X, Y = _two_class_data(m=10)
    with pytest.raises(ValueError, match="must return shape"):
        plot_decision_boundary(HalfModel(), X, Y, resolution=10)


def test_decision_boundary_rejects_an_object_without_predict():
    X, Y = _two_class_data(m=10)
    with pytest.raises(TypeError, match="predict"):
        plot_decision_boundary(object(), X, Y)


# --- imports -----------------------------------------------------------------------------


def test_importing_plotting_does_not_import_matplotlib_or_tensorflow(tmp_path):
    code = (
        "import sys, nnlib.plotting\n"
        "assert 'matplotlib' not in sys.modules, 'matplotlib imported at module level'\n"
        "assert 'tensorflow' not in sys.modules\n"
    )
    # A fresh interpreter, importing the very nnlib under test (not one found via its cwd).
    package_parent = str(Path(nnlib.plotting.__file__).resolve().parents[1])
    env = {**os.environ, "PYTHONPATH": package_parent}
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
