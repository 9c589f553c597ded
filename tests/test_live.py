"""nncourse.live: moving a control retrains nnlib with the new setting and redraws the figure;
run on a kernel without a front end (as nbclient and nbgrader run the lessons), a live cell
shows its figure once, as a PNG, then the controls' one-line stand-in, and nothing on stderr.

The expected curves come from nnlib's own `fit`, on networks built here from nnlib's classes
(not through nncourse), and the expected shapes of the boundaries from the lessons' theorems:
a network with linear hidden layers and a sigmoid output is a logistic regression, whose
boundary is a straight line that cannot separate XOR, and neither can one hidden unit.
"""

import base64
import copy

import nbformat
import numpy as np
import pytest
from matplotlib.contour import ContourSet

import nnlib
from nncourse import live
from nnlib.datasets import coffee_roasting, xor

COFFEE = coffee_roasting(m=200, seed=0)
XOR = xor(m=200, seed=0)
EPOCHS = 20  # enough for the rates and activations to part ways; keeps the tests quick


def seed_network(hidden):
    """The notes' 25-15-1 network with the hidden activation `hidden`, from seed 0."""
    return nnlib.Sequential([nnlib.Dense(25, hidden), nnlib.Dense(15, hidden),
                             nnlib.Dense(1, "sigmoid")], seed=0)


def sgd_costs(learning_rate):
    """nnlib's fit of the sigmoid seed network with SGD(learning_rate), batches of 32."""
    model = seed_network("sigmoid")
    model.compile(optimizer=nnlib.SGD(learning_rate=learning_rate),
                  loss=nnlib.BinaryCrossentropy())
    return model.fit(*COFFEE, batch_size=32, epochs=EPOCHS, shuffle=False,
                     verbose=0).history["loss"]


def notes_costs(hidden):
    """nnlib's fit of the seed network as the notes write it: compile(loss=...) and
    fit(X, Y, epochs=...), so RMSprop(0.001), batches of 32, shuffled."""
    model = seed_network(hidden)
    model.compile(loss=nnlib.BinaryCrossentropy())
    return model.fit(*COFFEE, epochs=EPOCHS, verbose=0).history["loss"]


def xor_accuracies(units, activation, seeds):
    """The accuracy on XOR of nnlib's one-hidden-layer network from each seed (Adam(0.1),
    100 full-batch epochs)."""
    X, Y = XOR
    accuracies = []
    for seed in seeds:
        model = nnlib.Sequential([nnlib.Dense(units, activation), nnlib.Dense(1, "sigmoid")],
                                 seed=seed)
        model.compile(optimizer=nnlib.Adam(learning_rate=0.1), loss=nnlib.BinaryCrossentropy())
        model.fit(X, Y, batch_size=len(X), epochs=100, shuffle=False, verbose=0)
        accuracies.append(float(np.mean((model.predict(X, verbose=0) > 0.5) == (Y == 1))))
    return accuracies


def curve(demo, line=0):
    """The y data of line `line` of the live figure's first axes: a cost curve."""
    return demo.figure.axes[0].lines[line].get_ydata()


def boundary_bend(ax):
    """How far the drawn decision boundary (the unfilled contour y_hat = 0.5) is from a straight
    line: the smallest singular value of its centred vertices over their number's square root
    (0 for a straight line, in the units of the plane)."""
    lines = [c for c in ax.collections if isinstance(c, ContourSet) and not c.filled]
    assert len(lines) == 1, f"expected one boundary on {ax.get_title()!r}, found {len(lines)}"
    points = np.concatenate([path.vertices for path in lines[0].get_paths()])
    points = points - points.mean(axis=0)
    return np.linalg.svd(points, compute_uv=False)[-1] / np.sqrt(len(points))


# ---------------------------------------------------------------------- moving the controls


def test_the_learning_rate_slider_retrains_at_the_rate_chosen():
    demo = live.learning_rate(*COFFEE, learning_rate=1.0, epochs=EPOCHS)
    first = demo.png()
    np.testing.assert_array_equal(curve(demo), sgd_costs(1.0))

    demo.controls["learning_rate"].value = 10.0
    at_10 = sgd_costs(10.0)
    assert not np.allclose(at_10, sgd_costs(1.0))  # so the check below can tell them apart
    np.testing.assert_array_equal(curve(demo), at_10)
    np.testing.assert_array_equal(curve(demo, line=1), sgd_costs(1.0))  # the dashed reference
    assert demo.result == {"costs": at_10, "stopped": None}
    assert demo.png() != first


def test_the_learning_rate_slider_offers_the_rates_from_crawling_to_diverging():
    slider = live.learning_rate(*COFFEE, epochs=2).controls["learning_rate"]
    rates = [value for _, value in slider.options]
    assert rates == sorted(rates) and rates[0] <= 0.001 and rates[-1] >= 30
    assert [label for label, _ in slider.options][rates.index(1.0)] == "1"


def test_the_activation_buttons_retrain_the_notes_network_and_bend_its_boundary():
    demo = live.hidden_activation(*COFFEE, activation="relu", epochs=EPOCHS)
    ax_cost, ax_map = demo.figure.axes
    np.testing.assert_array_equal(curve(demo), notes_costs("relu"))
    assert boundary_bend(ax_map) > 0.05  # ReLU units bend the boundary
    assert demo.result["accuracy"] == np.mean(
        (demo.result["model"].predict(COFFEE[0], verbose=0) > 0.5) == (COFFEE[1] == 1))

    for hidden in ("linear", "sigmoid"):
        demo.controls["activation"].value = hidden
        ax_cost, ax_map = demo.figure.axes
        np.testing.assert_array_equal(curve(demo), notes_costs(hidden))
        assert hidden in ax_map.get_title()
    demo.controls["activation"].value = "linear"
    assert boundary_bend(demo.figure.axes[1]) < 1e-4  # a logistic regression: a straight line


def test_the_xor_controls_retrain_each_seed_at_the_width_and_activation_chosen():
    seeds = range(4)
    demo = live.xor_width(*XOR, units=2, activation="relu", seeds=seeds)
    assert demo.result["accuracies"] == xor_accuracies(2, "relu", seeds)

    demo.controls["units"].value = 6
    expected = xor_accuracies(6, "relu", seeds)
    assert expected != xor_accuracies(2, "relu", seeds)
    assert demo.result["accuracies"] == expected
    assert [ax.get_title() for ax in demo.figure.axes] == [
        f"seed {seed}: {accuracy:.0%} right"
        for seed, accuracy in zip(seeds, expected, strict=True)]
    assert f"{sum(a == 1 for a in expected)} of 4 starting points" in (
        demo.figure.get_suptitle())
    assert [m.layers[0].units for m in demo.result["models"]] == [6] * 4


@pytest.mark.parametrize(("units", "activation"), [(1, "relu"), (1, "sigmoid"), (8, "linear")])
def test_what_cannot_separate_xor_never_does(units, activation):
    """One hidden unit, or linear hidden units of any width: every boundary is one straight
    line, and no seed classifies all of XOR right."""
    demo = live.xor_width(*XOR, units=2, activation="relu", seeds=range(4))
    demo.controls["activation"].value = activation
    demo.controls["units"].value = units
    assert demo.settings == {"units": units, "activation": activation}
    assert demo.result["solved"] == 0 and min(demo.result["accuracies"]) < 1
    if activation == "linear":
        assert all(boundary_bend(ax) < 1e-4 for ax in demo.figure.axes
                   if any(isinstance(c, ContourSet) and not c.filled for c in ax.collections))


def test_a_cost_that_becomes_nan_stops_training_and_says_so_in_the_title(recwarn):
    demo = live.learning_rate(*COFFEE, learning_rate=1e300, learning_rates=[1e300],
                              hidden="relu", epochs=5, reference=None)  # steps overflow to inf
    assert demo.result["stopped"] == 1 and not np.isfinite(demo.result["costs"][-1])
    assert "training stopped" in demo.figure.axes[0].get_title()
    assert not [w for w in recwarn if "TerminateOnNaN" in str(w.message)]  # not on stderr


@pytest.mark.parametrize(("make", "message"), [
    (lambda: live.learning_rate(*COFFEE, learning_rate=0.5), "learning_rate must be one of"),
    (lambda: live.hidden_activation(*COFFEE, activation="tanh"), "activation must be one of"),
    (lambda: live.xor_width(*XOR, units=9), "units must be one of"),
    (lambda: live.xor_width(*XOR, seeds=[]), "seeds is empty"),
    (lambda: live.xor_width(COFFEE[0][:, :1], COFFEE[1]), "X must have shape (m, 2)"),
    (lambda: live.hidden_activation(COFFEE[0], COFFEE[1][:5]), "Y must have shape (200, 1)"),
])
def test_a_bad_setting_is_one_clear_error(make, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        make()


# ---------------------------------------------------------------------- without a front end


CELLS = [
    "%matplotlib inline\nimport nnlib.datasets\nfrom nncourse import live\n"
    "X, Y = nnlib.datasets.coffee_roasting(m=200, seed=0)\n"
    "X_xor, Y_xor = nnlib.datasets.xor(m=200, seed=0)",
    "rates = live.learning_rate(X, Y, learning_rate=1.0)\nrates",
    "live.hidden_activation(X, Y, activation='linear')",
    "live.xor_width(X_xor, Y_xor, units=2, activation='relu')",
    "rates.controls['learning_rate'].value = 3.0  # what a move of the slider does",
    "import base64\n"
    "print(base64.b64encode(live.learning_rate(X, Y, learning_rate=3.0).png()).decode())",
]
STAND_INS = {1: "Live controls: learning rate = 1. ",
             2: "Live controls: hidden layers = linear. ",
             3: "Live controls: hidden units = 2, activation = relu. "}


@pytest.fixture(scope="module")
def ran():
    """(the notebook of CELLS run by nbclient, the outputs of cell 1 when it had just run)."""
    from nbclient import NotebookClient

    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in CELLS])
    first = {}

    def keep(cell, cell_index, **_):
        if cell_index == 1:
            first["outputs"] = copy.deepcopy(cell.outputs)

    NotebookClient(nb, kernel_name="python3", timeout=120, on_cell_executed=keep).execute()
    return nb, first["outputs"]


@pytest.mark.notebooks
@pytest.mark.parametrize("index", sorted(STAND_INS))
def test_without_a_front_end_a_live_cell_shows_one_figure_and_a_line_of_text(ran, index):
    nb, _ = ran
    outputs = nb.cells[index].outputs
    assert [o.output_type for o in outputs] == ["display_data", "display_data"], outputs
    figure, controls = outputs
    assert "image/png" in figure.data
    assert not any("image/png" in o.get("data", {}) for o in outputs[1:])  # exactly one figure
    assert "application/vnd.jupyter.widget-view+json" in controls.data
    assert controls.data["text/plain"].startswith(STAND_INS[index])
    assert "Box(" not in controls.data["text/plain"]  # not ipywidgets' repr


@pytest.mark.notebooks
def test_without_a_front_end_nothing_goes_to_stderr(ran):
    nb, _ = ran
    assert [(i, o) for i, cell in enumerate(nb.cells) for o in cell.outputs
            if o.output_type == "error" or o.get("name") == "stderr"] == []


@pytest.mark.notebooks
def test_a_moved_control_updates_the_figure_in_place(ran):
    """Setting the slider's value in a later cell (a kernel sees a move in the browser as
    that) redraws cell 1's figure where it is: no new output appears."""
    nb, first = ran
    shown = nb.cells[1].outputs[0].data["image/png"]
    assert nb.cells[4].outputs == []
    assert shown != first[0].data["image/png"]
    fresh = nb.cells[5].outputs[0].text.strip()  # the figure of a cell set to 3 from the start
    assert base64.b64decode(shown) == base64.b64decode(fresh)
