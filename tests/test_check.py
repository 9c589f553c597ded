"""nncourse.check, the helper of the lessons' test cells: fast unit tests, no notebook, no nbgrader.

Every patch is made with monkeypatch, undone inside the test (to check that `untouched` is
quiet again), and undone once more by pytest at teardown.
"""

import copy
import re
import sys

import numpy as np
import pytest

import nnlib
from nncourse import check

renamed_bce = nnlib.losses.binary_crossentropy  # nnlib under another name


def fake(*args, **kwargs):
    return 0.0


PATCHES = {
    "numpy function": (lambda mp: mp.setattr(np, "log", fake), "numpy.log"),
    "numpy.random function": (lambda mp: mp.setattr(np.random, "default_rng", fake),
                              "numpy.random.default_rng"),
    "nnlib function": (lambda mp: mp.setattr(nnlib.losses, "mean_squared_error", fake),
                       "nnlib.losses.mean_squared_error"),
    "nnlib method": (lambda mp: mp.setattr(nnlib.layers.Dense, "forward", fake),
                     "nnlib.layers.Dense.forward"),
    "private method": (lambda mp: mp.setattr(nnlib.model.Sequential, "_train_epoch", fake),
                       "nnlib.model.Sequential._train_epoch"),
    "property": (lambda mp: mp.setattr(nnlib.layers.Dense, "built", property(fake)),
                 "nnlib.layers.Dense.built"),
    "method shadowing an inherited one": (
        lambda mp: mp.setattr(nnlib.losses.MeanSquaredError, "__call__", fake, raising=False),
        "nnlib.losses.MeanSquaredError.__call__ (added)"),
    "deleted method": (lambda mp: mp.delattr(nnlib.optimizers.SGD, "_update"),
                       "nnlib.optimizers.SGD._update"),
    "registry entry": (
        lambda mp: mp.setitem(nnlib.activations.ACTIVATIONS, "relu",
                              nnlib.activations.ACTIVATIONS["linear"]),
        "nnlib.activations.ACTIVATIONS['relu']"),
    "registry name added": (lambda mp: mp.setitem(nnlib.losses.LOSSES, "hinge", object),
                            "nnlib.losses.LOSSES['hinge'] (added)"),
    "optimizer registry": (lambda mp: mp.setitem(nnlib.optimizers.OPTIMIZERS, "sgd", object),
                           "nnlib.optimizers.OPTIMIZERS['sgd']"),
}


def test_untouched_is_quiet_on_a_fresh_import():
    check.untouched()


@pytest.mark.parametrize("kind", PATCHES)
def test_untouched_names_what_was_replaced_and_is_quiet_once_restored(kind, monkeypatch):
    patch, name = PATCHES[kind]
    patch(monkeypatch)
    with pytest.raises(check.LibraryReplaced, match=r"replaced in this kernel: ") as caught:
        check.untouched()
    assert f": {name}." in str(caught.value), str(caught.value)
    monkeypatch.undo()
    check.untouched()


def test_untouched_names_every_change(monkeypatch):
    monkeypatch.setattr(np, "exp", fake)
    monkeypatch.setattr(nnlib.layers.Dense, "backward", fake)
    monkeypatch.setitem(nnlib.initializers.INITIALIZERS, "zeros", fake)
    with pytest.raises(AssertionError) as caught:
        check.untouched()
    for name in ["numpy.exp", "nnlib.layers.Dense.backward",
                 "nnlib.initializers.INITIALIZERS['zeros']"]:
        assert name in str(caught.value)


def test_what_python_caches_on_classes_is_not_a_change():
    copy.deepcopy(nnlib.Sequential([nnlib.Dense(2, "relu")]))  # caches __slotnames__
    assert nnlib.losses.Loss.__annotations__ == {}  # reading it stores an empty dict
    check.untouched()


def test_build_makes_an_object_of_the_original_class():
    layer = check.build("nnlib.layers.Dense", 3, activation="relu")
    assert type(layer) is nnlib.layers.Dense and (layer.units, layer.activation) == (3, "relu")
    model = check.build("nnlib.Sequential", [layer], seed=0)  # the package's name works too
    assert type(model) is nnlib.model.Sequential and len(model.layers) == 1


def test_build_refuses_a_patched_class(monkeypatch):
    monkeypatch.setattr(nnlib.layers.Dense, "forward", fake)
    with pytest.raises(AssertionError, match=re.escape("nnlib.layers.Dense.forward")):
        check.build("nnlib.layers.Dense", 3)


@pytest.mark.parametrize("name", ["nnlib.losses.mean_squared_error", "nnlib.layers.Nope",
                                  "numpy.ndarray", "nnlib.activations.ACTIVATIONS"])
def test_build_takes_only_nnlib_classes(name):
    with pytest.raises(ValueError, match="nnlib's classes"):
        check.build(name)


def test_call_returns_the_result_on_copies_of_the_inputs():
    X = np.array([[1.0, -2.0]])
    assert np.array_equal(check.call(np.abs, X), [[1.0, 2.0]])


@pytest.mark.parametrize(("fn", "called"), [
    (lambda y, f: renamed_bce(y, f), "nnlib.losses.binary_crossentropy"),
    (lambda y, f: nnlib.MeanSquaredError().per_example(y, f),
     "nnlib.losses.MeanSquaredError.per_example"),  # it has no __init__ of its own
])
def test_call_detects_nnlib_however_it_is_reached(fn, called):
    y, f = np.array([[1.0], [0.0]]), np.array([[0.9], [0.2]])
    with pytest.raises(check.CalledNnlib, match=re.escape(f"called {called}")):
        check.call(fn, y, f)


def test_call_detects_an_answer_that_switches_the_check_off():
    def unprofiled(y, f):
        sys.setprofile(None)
        return renamed_bce(y, f)

    y, f = np.array([[1.0], [0.0]]), np.array([[0.9], [0.2]])
    with pytest.raises(check.CheckSwitchedOff, match="called sys.setprofile"):
        check.call(unprofiled, y, f)



def test_call_allows_the_methods_of_listed_classes():
    def forward(X):
        layer = nnlib.Dense(1, "sigmoid")
        layer.build(X.shape[1], np.random.default_rng(0))
        return layer.forward(X)

    X = np.ones((2, 3))
    with pytest.raises(check.CalledNnlib, match=re.escape("called nnlib.layers.Dense.__init__")):
        check.call(forward, X)
    assert check.call(forward, X, allow=(nnlib.Dense,)).shape == (2, 1)


def test_call_detects_a_change_to_an_input():
    def clip_in_place(f):
        f[f > 0.5] = 0.5
        return f

    with pytest.raises(AssertionError, match="changed its input f in place"):
        check.call(clip_in_place, np.array([0.2, 0.9]))


def half_mse(y, f):
    return 0.5 * np.square(f - y).mean(axis=-1)


def test_compare_is_quiet_for_a_right_answer():
    def mse(y, f):
        return np.square(f - y).mean(axis=-1)

    check.compare(mse, "nnlib.losses.mean_squared_error", np.ones((3, 1)), np.zeros((3, 1)))


def test_compare_message_shows_the_inputs_expected_and_got():
    y, f = np.array([[1.0], [3.0]]), np.array([[0.0], [1.0]])
    with pytest.raises(AssertionError) as caught:
        check.compare(half_mse, "nnlib.losses.mean_squared_error", y, f, hint="no 1/2")
    message = str(caught.value)
    assert message.startswith("half_mse(y, f) is not right: 2 of 2 entries are off; the "
                              "largest difference is at index (1,): expected 4, got 2."), message
    assert "expected (from nnlib.losses.mean_squared_error):\n  [1., 4.]\n" in message
    assert "got:\n  [0.5, 2. ]\n" in message
    assert "y = [[1.],\n" in message and message.endswith("Hint: no 1/2")


def test_compare_points_at_the_entry_outside_the_tolerance_with_digits_that_differ():
    """log(f + 1e-7) instead of clipping: the loss of f = 0.9 is off by 1e-6 of its value, the
    loss of f = 0.1 by less (its absolute difference is larger, but within the tolerance)."""
    def bce_plus_epsilon(y, f):
        return -(y * np.log(f + 1e-7) + (1 - y) * np.log(1 - f + 1e-7)).mean(axis=-1)

    y, f = np.array([[1.0], [1.0]]), np.array([[0.9], [0.1]])
    with pytest.raises(AssertionError) as caught:
        check.compare(bce_plus_epsilon, "nnlib.losses.binary_crossentropy", y, f)
    message = str(caught.value)
    assert ("1 of 2 entries are off; the largest difference is at index (0,): "
            "expected 0.1053605, got 0.1053604") in message, message


def test_same_is_quiet_when_every_value_matches():
    check.same("f(x)", np.array([1.0, 2.0]), np.array([1.0, 2.0 + 1e-9]))
    check.same("g(x)", (np.zeros(2), [1.0, 2.0]), {"a": np.zeros(2), "b": np.array([1.0, 2.0])})


def test_same_names_the_wrong_value_and_shows_expected_and_got():
    expected = {"dX": np.zeros((2, 2)), "dW": np.ones((2, 1)), "db": np.ones(1)}
    got = (np.zeros((2, 2)), np.ones((2, 1)), np.ones((1, 1)))
    with pytest.raises(AssertionError) as caught:
        check.same("backward(dA)", got, expected, source="nnlib's Dense", hint="keep b's shape")
    assert str(caught.value) == (
        "backward(dA): db is not right: expected shape (1,), got shape (1, 1).\n"
        "expected (from nnlib's Dense):\n  [1.]\ngot:\n  [[1.]]\nHint: keep b's shape")


@pytest.mark.parametrize("got", [None, (1.0, 2.0), [np.zeros(2)] * 4])
def test_same_wants_as_many_values_as_expected(got):
    with pytest.raises(AssertionError, match=re.escape("f(x) should return 3 values, (a, b, c)")):
        check.same("f(x)", got, {"a": 1.0, "b": 2.0, "c": 3.0})
