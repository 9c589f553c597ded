"""The locked helper that the lessons' test cells import.

    from nncourse import check
    check.compare(binary_crossentropy, "nnlib.losses.binary_crossentropy", y, f)

`compare` runs the learner's function and nnlib's function on copies of the same inputs and
raises AssertionError with a message that shows the inputs, the expected value (nnlib's) and
the value that came back. Three rules make it hard to pass without a right answer:

- Expected values come from the *original* nnlib functions, captured when this module is
  first imported (each lesson imports it in its first, locked cell, before any learner code
  runs). Every check first verifies that no attribute of NumPy or of an nnlib module has been
  replaced since, and names what was.
- The learner's function runs under a profiler (`sys.setprofile`) that fails the check if any
  code from the nnlib package runs inside it, however nnlib was imported or aliased.
- A warning raised inside the learner's function, or a change it makes to its inputs, fails
  the check with a message (a warning would reach stderr, which nbgrader scores as a failure).

Nothing here prints: a check returns quietly or raises AssertionError.
"""

import copy
import importlib
import inspect
import os
import pkgutil
import sys
import warnings

import numpy as np

import nnlib

for _module in pkgutil.iter_modules(nnlib.__path__):
    importlib.import_module(f"nnlib.{_module.name}")

_WATCHED = [np] + [m for name, m in sorted(sys.modules.items()) if name.split(".")[0] == "nnlib"]
# module -> {attribute name: original object}, for every non-dunder attribute
_ORIGINALS = {m: {k: v for k, v in vars(m).items() if not k.startswith("__")} for m in _WATCHED}
_NNLIB_DIR = os.path.dirname(os.path.abspath(nnlib.__file__)) + os.sep
_BY_NAME = {m.__name__: attrs for m, attrs in _ORIGINALS.items()}
_MISSING = object()


def untouched():
    """Check that no attribute of NumPy or of an nnlib module has been replaced or deleted.

    Replaced means: a different object than when this module was imported, or, for changes
    made before that, an object defined in the notebook (module `__main__`). Raises
    AssertionError naming each replaced attribute (e.g. `numpy.log`).
    """
    replaced = [f"{m.__name__}.{name}" for m, attrs in _ORIGINALS.items()
                for name, value in attrs.items() if vars(m).get(name, _MISSING) is not value
                or getattr(value, "__module__", None) == "__main__"]
    if replaced:
        raise AssertionError(
            f"These were replaced in this kernel: {', '.join(replaced)}. The tests "
            "compare your answers with NumPy and nnlib as installed: remove the code that "
            "assigns to them, restart the kernel and run the notebook again.")


def reference(name, *args):
    """nnlib's value of `name` (e.g. "nnlib.losses.cost") on args, from the original function.

    Checks `untouched()` first; the function gets deep copies of args.
    """
    untouched()
    module, _, attr = name.rpartition(".")
    return _BY_NAME[module][attr](*copy.deepcopy(args))


def call(fn, *args, allow=()):
    """Return the learner's fn(*args), run on deep copies of args.

    Raises AssertionError if nnlib code ran during the call (except inside the nnlib functions
    listed in `allow`), if fn tried to remove the profiler, emitted a warning or changed one
    of its inputs in place, or if NumPy or nnlib was changed (`untouched()`).
    """
    untouched()
    mine = copy.deepcopy(args)
    allowed = {f.__code__ for f in allow}
    ran_nnlib, inside = [], []

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
            ran_nnlib.append("sys.setprofile (which would switch this check off)")

    previous = sys.getprofile()
    with warnings.catch_warnings(record=True) as caught:  # what would have reached stderr
        sys.setprofile(profile)
        try:
            result = fn(*mine)
        finally:
            sys.setprofile(previous)
    untouched()
    call_text = _call_text(fn, args)
    if ran_nnlib:
        raise AssertionError(f"{call_text} called {ran_nnlib[0]}. Write the computation "
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
        return f"expected {expected:.7g}, got {got:.7g}"
    i = np.unravel_index(np.argmax(np.abs(got - expected)), got.shape)
    return (f"largest difference at index {tuple(int(k) for k in i)}: "
            f"expected {expected[i]:.7g}, got {got[i]:.7g}")


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
