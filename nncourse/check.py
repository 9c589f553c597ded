"""The locked helper that the lessons' test cells import.

    from nncourse import check
    check.compare(binary_crossentropy, "nnlib.losses.binary_crossentropy", y, f)

`compare` runs the learner's function and nnlib's function on copies of the same inputs and
raises AssertionError with a message that shows the inputs, the expected value (nnlib's) and
the value that came back. When the expected value comes from nnlib objects (a layer, a model,
an optimizer), `build` makes them from the original classes, `call` runs the learner's code,
and `same` compares what came back, one value or several named ones:

    model = check.build("nnlib.model.Sequential", [check.build("nnlib.layers.Dense", 1)])
    model.set_weights([W, b])
    got = check.call(linear_unit, X, W, b)
    check.same("linear_unit(X, W, b)", got, model.predict(X), source="nnlib's predict")

Three rules make it hard to pass without a right answer:

- Expected values come from the *original* nnlib functions and classes, captured when this
  module is first imported (each lesson imports it in its first, locked cell, before any
  learner code runs). Every check first verifies (`untouched`) that nothing has been replaced
  since: no attribute of NumPy (and of `numpy.random` and `numpy.linalg`, which nnlib uses)
  or of an nnlib module, no attribute of a class defined in nnlib (its methods and
  properties, e.g. `nnlib.layers.Dense.forward`), and no entry of a dict that an nnlib module
  holds (the registries `ACTIVATIONS`, `INITIALIZERS`, `LOSSES`, `OPTIMIZERS`); it names what
  was.
- The learner's function runs under a profiler (`sys.setprofile`) that fails the check if any
  code from the nnlib package runs inside it, however nnlib was imported or aliased.
- A warning raised inside the learner's function, or a change it makes to its inputs, fails
  the check with a message (a warning would reach stderr, which the grader scores as a failure).

Nothing here prints: a check returns quietly or raises AssertionError. The three ways of
passing without the work raise their own subclasses of it, `LibraryReplaced`, `CalledNnlib`
and `CheckSwitchedOff`: the learner reads the message, and the grader flags the notebook for
the instructor by the error's name (nncourse.grading.report), never by its wording.

A failing check's traceback shows the learner's call and the message, not this module: in a
Jupyter kernel (and so in the notebooks nbgrader autogrades) the frames of this file are left
out of what an error raised through one of the public functions shows (`_learner_facing`).
"""

import copy
import functools
import importlib
import inspect
import os
import pkgutil
import sys
import types
import warnings

import numpy as np

import nnlib

for _module in pkgutil.iter_modules(nnlib.__path__):
    importlib.import_module(f"nnlib.{_module.name}")

_NNLIB_MODULES = [m for name, m in sorted(sys.modules.items()) if name.split(".")[0] == "nnlib"]
_WATCHED = [np, np.linalg, np.random] + _NNLIB_MODULES  # nnlib uses np.random and np.linalg
# module -> {attribute name: original object}, for every non-dunder attribute
_ORIGINALS = {m: {k: v for k, v in vars(m).items() if not k.startswith("__")} for m in _WATCHED}
# every class defined in an nnlib module -> its __dict__ as imported (methods, properties, ...)
_CLASSES = {c: dict(vars(c)) for m in _NNLIB_MODULES for c in vars(m).values()
            if isinstance(c, type) and c.__module__ == m.__name__}
# "nnlib.activations.ACTIVATIONS" -> (the dict, its entries as imported), for every dict an
# nnlib module holds: the registries that map names to activations, losses, optimizers, ...
_REGISTRIES = {f"{m.__name__}.{k}": (v, dict(v)) for m in _NNLIB_MODULES
               for k, v in vars(m).items() if type(v) is dict and not k.startswith("__")}
# (how an entry is named, the live namespace, its entries as imported, whether an added entry
# counts as a change). Modules gain attributes legitimately (NumPy loads submodules lazily);
# classes and registries do not, except for what Python itself caches on a class.
_NAMESPACES = (
    [(f"{m.__name__}.{{}}", vars(m), attrs, False) for m, attrs in _ORIGINALS.items()]
    + [(f"{c.__module__}.{c.__qualname__}.{{}}", vars(c), attrs, True)
       for c, attrs in _CLASSES.items()]
    + [(f"{name}[{{!r}}]", d, items, True) for name, (d, items) in _REGISTRIES.items()])
_PYTHON_CACHES = {"__slotnames__",  # set by copy.deepcopy and pickle
                  "__annotations__"}  # set by reading it


class LibraryReplaced(AssertionError):
    """NumPy or nnlib was changed in this kernel: the tests' expected values cannot be trusted."""


class CalledNnlib(AssertionError):
    """The learner's function ran nnlib's code instead of computing the result itself."""


class CheckSwitchedOff(AssertionError):
    """The learner's function tried to remove the profiler that watches for nnlib's code."""


def _from_notebook(value):
    """Whether value (or the function inside a property, a staticmethod, a registry's tuple)
    was defined in the notebook, module `__main__`."""
    if isinstance(value, tuple):
        return any(_from_notebook(v) for v in value)
    if isinstance(value, property):
        value = value.fget
    elif isinstance(value, staticmethod | classmethod):
        value = value.__func__
    return getattr(value, "__module__", None) == "__main__"


# entries that were already replaced by notebook code when this module was imported
_REPLACED_BEFORE = [label.format(k) for label, _, attrs, _ in _NAMESPACES
                    for k, v in attrs.items() if _from_notebook(v)]
_NNLIB_DIR = os.path.dirname(os.path.abspath(nnlib.__file__)) + os.sep
_BY_NAME = {m.__name__: attrs for m, attrs in _ORIGINALS.items()}
_MISSING = object()
_HERE = os.path.abspath(__file__)


def _learner_facing(function):
    """A public check whose errors show the learner's code, not this module's.

    IPython hides a frame whose locals hold `__tracebackhide__ = True`, except the innermost
    one (IPython 9's ultratb: `i != lastrecord`), which for a failing check is a frame of this
    file. So an error that leaves a public function also gets `_render_traceback_`, which
    IPython calls instead of formatting the traceback itself: it formats the same traceback
    with this module's frames removed, so the error ends at the learner's line (the test
    cell's call, or the line of the learner's function that raised). pytest and IPython's
    debugger honour `__tracebackhide__` alone.
    """

    @functools.wraps(function)
    def public(*args, **kwargs):
        __tracebackhide__ = True
        try:
            return function(*args, **kwargs)
        except Exception as error:
            if not hasattr(error, "_render_traceback_"):
                try:
                    error._render_traceback_ = functools.partial(_render_without_check, error)
                except AttributeError:  # an exception type without attributes: shown as is
                    pass
            raise

    return public


def _render_without_check(error):
    """IPython's structured traceback of error without the frames of this file."""
    from IPython import get_ipython

    return get_ipython().InteractiveTB.structured_traceback(
        type(error), error, _without_check_frames(error.__traceback__))


def _without_check_frames(tb):
    """A copy of the traceback chain tb without the entries of frames of this file."""
    entries = []
    while tb is not None:
        entries.append(tb)
        tb = tb.tb_next
    kept = None
    for entry in reversed(entries):
        if os.path.abspath(entry.tb_frame.f_code.co_filename) != _HERE:
            kept = types.TracebackType(kept, entry.tb_frame, entry.tb_lasti, entry.tb_lineno)
    return kept



@_learner_facing
def untouched():
    """Check that NumPy and nnlib are as they were when this module was imported.

    Looks at every attribute of NumPy (numpy, numpy.random, numpy.linalg) and of the nnlib
    modules, every attribute of a class defined in nnlib, and every entry of a dict held by
    an nnlib module (the registries). Changed means: replaced by a different object or
    deleted; for classes and registries also added (a method that shadows an inherited one,
    a new registry name); and, for changes made before this module was imported, an object
    defined in the notebook (module `__main__`). Raises LibraryReplaced naming each change
    (e.g. `numpy.log`, `nnlib.layers.Dense.forward`, `nnlib.activations.ACTIVATIONS['relu']`).
    Takes well under a millisecond: every check calls it.
    """
    replaced = [label.format(key) for label, live, attrs, _ in _NAMESPACES
                for key, value in attrs.items() if live.get(key, _MISSING) is not value]
    for label, live, attrs, strict in _NAMESPACES:
        if strict and len(live) != len(attrs):
            replaced += [f"{label.format(key)} (added)"
                         for key in sorted(live.keys() - attrs.keys() - _PYTHON_CACHES)]
    replaced += [name for name in _REPLACED_BEFORE if name not in replaced]
    if replaced:
        raise LibraryReplaced(
            f"These were replaced in this kernel: {', '.join(replaced)}. The tests "
            "compare your answers with NumPy and nnlib as installed: remove the code that "
            "assigns to them, restart the kernel and run the notebook again.")


@_learner_facing
def reference(name, *args):
    """nnlib's value of `name` (e.g. "nnlib.losses.cost") on args, from the original function.

    Checks `untouched()` first; the function gets deep copies of args.
    """
    untouched()
    module, _, attr = name.rpartition(".")
    return _BY_NAME[module][attr](*copy.deepcopy(args))


@_learner_facing
def build(name, *args, **kwargs):
    """An nnlib object made by the original class `name`, for a test's expected values.

        layer = check.build("nnlib.layers.Dense", 3, "sigmoid")
        model = check.build("nnlib.model.Sequential", [layer], seed=0)

    Checks `untouched()` first, so the class's methods and the registries its constructor
    reads are nnlib's as installed: what the object computes is the reference. The constructor
    gets deep copies of args and kwargs. Give it only objects made by `build` (layers for a
    Sequential; a loss and an optimizer for `compile`), never objects from the notebook.
    """
    untouched()
    module, _, attr = name.rpartition(".")
    cls = _BY_NAME.get(module, {}).get(attr)
    if not (isinstance(cls, type) and cls in _CLASSES):
        raise ValueError(f"check.build makes objects of nnlib's classes, such as "
                         f"'nnlib.layers.Dense'. Received: {name!r}")
    return cls(*copy.deepcopy(args), **copy.deepcopy(kwargs))


@_learner_facing
def call(fn, *args, allow=()):
    """Return the learner's fn(*args), run on deep copies of args.

    Raises CalledNnlib if nnlib code ran during the call (except inside what `allow` lists:
    nnlib functions, or nnlib classes, meaning all their methods, inherited ones included),
    CheckSwitchedOff if fn tried to remove the profiler, LibraryReplaced if NumPy or nnlib was
    changed (`untouched()`), and AssertionError if fn emitted a warning or changed one of its
    inputs in place.
    """
    untouched()
    mine = copy.deepcopy(args)
    allowed = {f.__code__ for f in _functions(allow)}
    ran_nnlib, switched_off, inside = [], [], []

    def profile(frame, event, arg):
        if inside:  # inside an allowed nnlib function: ignore what it calls
            if event == "return" and frame is inside[0]:
                inside.clear()
        elif event == "call" and frame.f_code in allowed:
            inside.append(frame)
        elif event == "call" and frame.f_code.co_filename.startswith(_NNLIB_DIR):
            code = frame.f_code
            name = getattr(code, "co_qualname", code.co_name)  # co_qualname: Python 3.11+
            ran_nnlib.append(f"{frame.f_globals.get('__name__', code.co_filename)}.{name}")
        elif event == "c_call" and arg is sys.setprofile and frame.f_globals is not globals():
            switched_off.append(True)

    previous = sys.getprofile()
    with warnings.catch_warnings(record=True) as caught:  # what would have reached stderr
        sys.setprofile(profile)
        try:
            result = fn(*mine)
        finally:
            sys.setprofile(previous)
    untouched()
    call_text = _call_text(fn, args)
    if switched_off:
        raise CheckSwitchedOff(f"{call_text} called sys.setprofile, which would switch this "
                               "check off. Remove that call: the tests must see which "
                               "functions your code runs.")
    if ran_nnlib:
        raise CalledNnlib(f"{call_text} called {ran_nnlib[0]}. Write the computation "
                          "yourself with NumPy: the tests compare it with nnlib's.")
    if caught:
        w = caught[0]
        raise AssertionError(f"{call_text} emitted {w.category.__name__}: {w.message}\n"
                             f"{_inputs_text(fn, args)}")
    for label, before, after in zip(_names(fn, args), args, mine, strict=True):
        if isinstance(before, np.ndarray) and not np.array_equal(before, after, equal_nan=True):
            raise AssertionError(f"{call_text} changed its input {label} in place; work on a "
                                 f"copy (e.g. np.clip(...) returns a new array).\n"
                                 f"{_inputs_text(fn, args)}")
    return result


@_learner_facing
def compare(fn, reference_name, *args, rtol=1e-6, atol=1e-12, hint="", allow=()):
    """Check that the learner's fn(*args) equals nnlib's `reference_name`(*args).

    Same shape, and values equal within rtol/atol (as np.allclose). Raises AssertionError
    showing the inputs, the expected value, the value that came back, and the hint if given.
    The call itself is checked by `call` (no nnlib, no warning, inputs unchanged).
    """
    expected = reference(reference_name, *args)
    got = call(fn, *args, allow=allow)
    problem = _difference(np.asarray(expected, dtype=float), got, rtol, atol)
    if problem:
        raise AssertionError(
            f"{_call_text(fn, args)} is not right: {problem}.\n{_inputs_text(fn, args)}\n"
            f"expected (from {reference_name}):\n{_show(expected)}\ngot:\n{_show(got)}"
            + (f"\nHint: {hint}" if hint else ""))


@_learner_facing
def same(what, got, expected, *, source="nnlib", rtol=1e-6, atol=1e-12, hint=""):
    """Check values that the learner's code returned against expected ones.

    expected: an array or number; or a dict {name: array} when `got` should be a tuple or
    list of that many values in that order, e.g. {"dX": dX, "dW": dW, "db": db}. Each value
    must have the expected shape and values within rtol/atol (as np.allclose). Raises
    AssertionError naming `what` (e.g. "dense_forward(X, W, b, sigmoid)") and the value, and
    showing the expected value (from `source`), the value that came back, and the hint.
    """
    if isinstance(expected, dict):
        if not (isinstance(got, tuple | list) and len(got) == len(expected)):
            raise AssertionError(
                f"{what} should return {len(expected)} values, ({', '.join(expected)}), as a "
                f"tuple or a list; it returned:\n{_show(got)}")
        checks = [(f"{what}: {name}", value, want)
                  for (name, want), value in zip(expected.items(), got, strict=True)]
    else:
        checks = [(what, got, expected)]
    for label, value, want in checks:
        want = np.asarray(want, dtype=float)
        problem = _difference(want, value, rtol, atol)
        if problem:
            raise AssertionError(
                f"{label} is not right: {problem}.\nexpected (from {source}):\n{_show(want)}\n"
                f"got:\n{_show(_as_numbers(value))}" + (f"\nHint: {hint}" if hint else ""))


def _functions(allow):
    """The functions in `allow`, with each class replaced by its methods (and its bases')."""
    for item in allow:
        if not isinstance(item, type):
            yield item
            continue
        for cls in item.__mro__[:-1]:  # not `object`
            for value in vars(cls).values():
                if isinstance(value, property):
                    yield from (f for f in (value.fget, value.fset, value.fdel) if f)
                elif isinstance(value, staticmethod | classmethod):
                    yield value.__func__
                elif inspect.isfunction(value):
                    yield value


def _as_numbers(value):
    """A list or tuple of numbers as a float array, to show it compactly; else value itself."""
    try:
        return np.asarray(value, dtype=float) if isinstance(value, list | tuple) else value
    except (TypeError, ValueError):
        return value


def _difference(expected, got, rtol, atol):
    """What is wrong with `got` as a description, or "" if it matches `expected`."""
    if got is None:
        return "it returned None (is a `return` missing?)"
    try:
        got = np.asarray(got, dtype=float)
    except (TypeError, ValueError):
        return f"it returned {type(got).__name__}, not numbers"
    if got.shape != expected.shape:
        want = "a single number" if expected.shape == () else f"shape {expected.shape}"
        return f"expected {want}, got shape {got.shape}"
    if not np.all(np.isfinite(got)):
        return "it returned inf or nan"
    if np.allclose(got, expected, rtol=rtol, atol=atol):
        return ""
    if got.shape == ():
        return _expected_got(expected, got)
    # Among the entries outside the tolerance (np.isclose), the one furthest off: the
    # largest difference overall may be an entry within the tolerance (a large value off
    # in its 8th digit) while a small one is wrong.
    off = ~np.isclose(got, expected, rtol=rtol, atol=atol)
    i = np.unravel_index(np.argmax(np.where(off, np.abs(got - expected), -1)), got.shape)
    return (f"{np.count_nonzero(off)} of {got.size} entries are off; the largest difference "
            f"is at index {tuple(int(k) for k in i)}: {_expected_got(expected[i], got[i])}")


def _expected_got(expected, got):
    """'expected E, got G' with as many digits as it takes to tell them apart (7 to 17)."""
    for digits in range(7, 18):
        e, g = f"{expected:.{digits}g}", f"{got:.{digits}g}"
        if e != g:
            break
    return f"expected {e}, got {g}"


def _names(fn, args):
    """The learner's parameter names for args (arg0, arg1, ... if they cannot be read)."""
    try:
        params = list(inspect.signature(fn).parameters)
    except (TypeError, ValueError):
        params = []
    return [params[i] if i < len(params) else f"arg{i}" for i in range(len(args))]


def _call_text(fn, args):
    return f"{getattr(fn, '__name__', 'your function')}({', '.join(_names(fn, args))})"


def _inputs_text(fn, args):
    return "\n".join(f"{label} = {_show(a, indent=len(label) + 3).lstrip()}"
                     for label, a in zip(_names(fn, args), args, strict=True))


def _show(value, indent=2):
    """A short text for a value: arrays printed compactly (long ones summarised)."""
    if callable(value):
        text = getattr(value, "__name__", repr(value))
    elif isinstance(value, np.ndarray | np.generic | float | int):
        text = np.array2string(np.asarray(value), precision=7, separator=", ",
                               threshold=40, edgeitems=3)
    else:
        text = repr(value)
    return "\n".join(" " * indent + line for line in text.splitlines())
