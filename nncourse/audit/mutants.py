"""Mutants of a solution cell: the answer with one small edit a learner plausibly makes.

Only the learner's part of the cell is edited: the statements between `### BEGIN SOLUTION` and
`### END SOLUTION` (what the release replaces with `raise NotImplementedError()`); the function's
signature and docstring stay as given. Each kind of edit is a rule below; `mutants(source)`
applies every rule at every place it fits, one edit per mutant, and drops edits that leave the
code unchanged or repeat another mutant.

A mutant's `id` is a hash of its lesson, cell and code, so it stays the same from one run to the
next while the solution does not change: the reviewed list of equivalent mutants refers to it.
"""

import ast
import copy
import hashlib
from dataclasses import dataclass

# BinOps where a learner may swap the operands (the others are commutative: no change)
NON_COMMUTATIVE = (ast.Sub, ast.Div, ast.FloorDiv, ast.Mod, ast.Pow, ast.MatMult)
FLIPPED = {ast.Lt: ast.Gt, ast.Gt: ast.Lt, ast.LtE: ast.GtE, ast.GtE: ast.LtE,
           ast.Eq: ast.NotEq, ast.NotEq: ast.Eq}
STRICTNESS = {ast.Lt: ast.LtE, ast.LtE: ast.Lt, ast.Gt: ast.GtE, ast.GtE: ast.Gt}
REDUCTIONS = ("mean", "sum", "average")
GUARDS = ("clip", "maximum", "minimum", "abs")  # the first argument is what they guard
FLOATS = ("float", "float64", "float32")
AXES = (0, 1, -1, None)
QUIET = ("verbose",)  # keyword arguments that change only what is printed: not mutated


@dataclass(frozen=True)
class Mutant:
    """One wrong version of a solution cell."""
    id: str  # stable: a hash of lesson, cell and source
    cell: str  # the grade_id of the solution cell
    kind: str  # the rule that made it, e.g. "swap-operands"; "hand-written" for a fixture
    change: str  # what was changed, e.g. "line 3: f - y -> y - f"
    source: str  # the whole cell, as it is run


def mutant_id(lesson, cell, source):
    return hashlib.sha1(f"{lesson}\0{cell}\0{source}".encode()).hexdigest()[:10]


def solution_lines(source):
    """(first, last) line numbers (1-based) of the learner's code between the markers."""
    lines = source.splitlines()
    begin = next(i for i, line in enumerate(lines, 1) if "### BEGIN SOLUTION" in line)
    end = next(i for i, line in enumerate(lines, 1) if "### END SOLUTION" in line)
    return begin + 1, end - 1


def defined_names(source):
    """The names a cell defines at its top level (functions, classes, assigned names)."""
    names = []
    for node in ast.parse(source).body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.append(node.name)
        elif isinstance(node, ast.Assign | ast.AnnAssign | ast.AugAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names += [n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name)]
    return names


def mutants(lesson, cell, source):
    """Every mutant of a solution cell's source, each with one edit in the learner's lines."""
    tree = ast.parse(source)
    first, last = solution_lines(source)
    nodes = _learner_nodes(tree, first, last)
    strings = sorted({n.value for n in nodes
                      if isinstance(n, ast.Constant) and isinstance(n.value, str)}
                     - {_docstring(tree)})
    variables = sorted({n.id for n in ast.walk(tree)
                        if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
                       | {a.arg for n in ast.walk(tree) if isinstance(n, ast.arguments)
                          for a in n.args + n.kwonlyargs})
    original = ast.unparse(tree)
    seen, result = {original}, []
    for index, node in enumerate(nodes):
        for option in range(len(_edits(node, strings, variables))):
            mutated = copy.deepcopy(tree)
            target = _learner_nodes(mutated, first, last)[index]
            kind, before, edit = _edits(target, strings, variables)[option]
            after = edit(target)
            _replace(mutated, target, after)
            code = ast.unparse(ast.fix_missing_locations(mutated))
            if code in seen or not _compiles(code):
                continue
            seen.add(code)
            line = node.lineno - first + 1  # counted from the first line the learner writes
            change = (f"line {line}: removed {_short(before)}" if after is None else
                      f"line {line}: {_short(before)} -> {_short(after)}")
            result.append(Mutant(mutant_id(lesson, cell, code), cell, kind, change, code))
    return result


def _learner_nodes(tree, first, last):
    """The nodes on the learner's lines, in a fixed order (the same for a copy of the tree).
    Left out: the constant in -1 (to a learner -1 is one number: flip-sign changes it), and
    the value of `verbose=` (it changes what is printed, not what is computed)."""
    left_out = {id(n.operand) for n in ast.walk(tree)
                if isinstance(n, ast.UnaryOp) and isinstance(n.op, ast.USub)}
    left_out |= {id(n) for k in ast.walk(tree) if isinstance(k, ast.keyword)
                 and k.arg in QUIET for n in ast.walk(k.value)}
    return [n for n in ast.walk(tree)
            if first <= getattr(n, "lineno", 0) <= last and id(n) not in left_out]


def _compiles(code):
    try:
        compile(code, "<mutant>", "exec")
    except SyntaxError:
        return False
    return True


def _docstring(tree):
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef):
            return ast.get_docstring(node, clean=False)
    return None


def _short(node):
    text = ast.unparse(node) if isinstance(node, ast.AST) else str(node)
    text = " ".join(text.split())
    return text if len(text) <= 70 else text[:67] + "..."


def _replace(tree, old, new):
    """Put `new` where `old` is in the tree (no-op when the edit changed old in place)."""
    if new is old:
        return
    for parent in ast.walk(tree):
        for field, value in ast.iter_fields(parent):
            if value is old:
                setattr(parent, field, new)
                return
            if isinstance(value, list) and any(v is old for v in value):
                value[:] = [v for v in value if v is not old] if new is None else \
                    [new if v is old else v for v in value]
                return


def _edits(node, strings, variables):
    """[(kind, the node's text before, edit)] for one node; edit(node) returns what replaces
    it (the node itself when it changes it in place, None to delete a statement)."""
    before = ast.unparse(node)
    edits = []

    def add(kind, edit):
        edits.append((kind, before, edit))

    if isinstance(node, ast.BinOp):
        if isinstance(node.op, NON_COMMUTATIVE):
            add("swap-operands", lambda n: _set(n, left=n.right, right=n.left))
        if isinstance(node.op, ast.Add | ast.Sub):
            flip = ast.Sub if isinstance(node.op, ast.Add) else ast.Add
            add("flip-sign", lambda n, flip=flip: _set(n, op=flip()))
        if isinstance(node.op, ast.Add | ast.Sub | ast.Mult | ast.Div):
            add("drop-term", lambda n: n.left)
            add("drop-term", lambda n: n.right)
    elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        add("flip-sign", lambda n: n.operand)
    elif isinstance(node, ast.Compare) and len(node.ops) == 1:
        op = type(node.ops[0])
        if op in FLIPPED:
            add("flip-comparison", lambda n, op=op: _set(n, ops=[FLIPPED[op]()]))
        if op in STRICTNESS:
            add("flip-comparison", lambda n, op=op: _set(n, ops=[STRICTNESS[op]()]))
    elif isinstance(node, ast.Call):
        edits += [(k, before, e) for k, e in _call_edits(node)]
    elif isinstance(node, ast.Subscript):
        edits += [(k, before, e) for k, e in _subscript_edits(node)]
    elif isinstance(node, ast.Constant):
        edits += [(k, before, e) for k, e in _constant_edits(node, strings, variables)]
    elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load):
        for other in variables:
            if _look_alike(node.id, other):
                add("wrong-variable", lambda n, other=other: ast.Name(other, ast.Load()))
    elif isinstance(node, ast.Return) and isinstance(node.value, ast.Tuple):
        for i in range(len(node.value.elts) - 1):
            add("return-order", lambda n, i=i: _set(n, value=_swapped(n.value, i)))
    elif isinstance(node, ast.With) and any("errstate" in ast.unparse(w) for w in node.items):
        add("overflow", lambda n: ast.If(test=ast.Constant(True), body=n.body, orelse=[]))
    if isinstance(node, ast.stmt) and not isinstance(node, ast.Return):
        add("drop-statement", lambda n: None)
    return edits


def _look_alike(name, other):
    """Names a learner mixes up: one extends the other by a short suffix (X and Xb, W and
    W_next; not b and batch_size) or is its gradient (W and dW)."""
    short, long = sorted((name, other), key=len)
    return name != other and (long.startswith(short) and len(long) - len(short) <= 5
                              or long == "d" + short)


def _call_edits(node):
    name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(
        node.func, "id", "")
    method = isinstance(node.func, ast.Attribute) and not _is_numpy(node.func.value)
    args = node.args
    if len(args) >= 2 and name not in ("range", "where", "clip", "maximum", "minimum"):
        for i in range(len(args) - 1):
            yield "swap-arguments", lambda n, i=i: _set(n, args=_swapped_list(n.args, i))
    if name in REDUCTIONS:
        yield "no-reduction", (lambda n: n.func.value) if method else (lambda n: n.args[0])
        other = "sum" if name != "sum" else "mean"
        yield "no-reduction", lambda n, other=other: _set(n, func=_renamed(n.func, other))
    if name in GUARDS:
        yield "no-clip", (lambda n: n.func.value) if method else (lambda n: n.args[0])
    if name == "where" and len(args) == 3:
        yield "overflow", lambda n: n.args[1]
        yield "overflow", lambda n: n.args[2]
    if name == "logaddexp" and len(args) == 2:
        yield "overflow", lambda n: _parse(
            f"np.log(np.exp({ast.unparse(n.args[0])}) + np.exp({ast.unparse(n.args[1])}))")
    if name == "log1p":
        yield "overflow", lambda n: _parse(f"np.log(1 + {ast.unparse(n.args[0])})")
    if name == "astype" and args and ast.unparse(args[0]).split(".")[-1] in FLOATS:
        yield "int-or-bool", lambda n: n.func.value
        yield "int-or-bool", lambda n: _set(n, args=[ast.Name("int")])
    if name in FLOATS and not method and len(args) == 1:
        yield "int-or-bool", lambda n: _set(n, func=ast.Name("int"))
        yield "int-or-bool", lambda n: n.args[0]
    if name == "range":
        for i in range(len(args)):
            for delta in (1, -1):
                yield "off-by-one", lambda n, i=i, d=delta: _set(
                    n, args=[_plus(a, d) if k == i else a for k, a in enumerate(n.args)])
    for i, keyword in enumerate(node.keywords):
        if keyword.arg == "axis":
            for axis in AXES:
                if ast.unparse(keyword.value) != repr(axis):
                    yield "axis", lambda n, i=i, axis=axis: _keyword(n, i, ast.Constant(axis))
        elif keyword.arg == "keepdims":
            yield "axis", lambda n, i=i: _keyword(n, i, None)
        if keyword.arg is not None and keyword.arg not in QUIET:
            yield "drop-argument", lambda n, i=i: _keyword(n, i, None)
    if name in REDUCTIONS and not any(k.arg == "axis" for k in node.keywords) and (
            method or len(args) == 1):
        for axis in (0, 1, -1):
            yield "axis", lambda n, axis=axis: _set(
                n, keywords=[*n.keywords, ast.keyword("axis", ast.Constant(axis))])


def _subscript_edits(node):
    if isinstance(node.slice, ast.Slice):
        for part in ("lower", "upper"):
            if getattr(node.slice, part) is not None:
                for delta in (1, -1):
                    yield "off-by-one", lambda n, part=part, d=delta: _set(
                        n, slice=_set(copy.copy(n.slice), **{part: _plus(
                            getattr(n.slice, part), d)}))
    elif isinstance(node.slice, ast.Constant) and isinstance(node.slice.value, int):
        for delta in (1, -1):
            yield "off-by-one", lambda n, d=delta: _set(n, slice=_plus(n.slice, d))


def _constant_edits(node, strings, variables):
    value = node.value
    if isinstance(value, bool) or value is None:
        if isinstance(value, bool):
            yield "wrong-constant", lambda n: _set(n, value=not n.value)
    elif isinstance(value, int):
        for new in (value + 1, value - 1):
            yield "wrong-constant", lambda n, new=new: _set(n, value=new)
    elif isinstance(value, float):
        for new in ((value * 10, value / 10) if value else (1.0,)):
            yield "wrong-constant", lambda n, new=new: _set(n, value=new)
        if value == int(value):
            yield "int-or-bool", lambda n: _set(n, value=int(n.value))
    elif isinstance(value, str):
        for other in strings:
            if other != value:
                yield "wrong-constant", lambda n, other=other: _set(n, value=other)


def _is_numpy(node):
    return isinstance(node, ast.Name) and node.id in ("np", "numpy")


def _set(node, **fields):
    for field, value in fields.items():
        setattr(node, field, value)
    return node


def _swapped_list(items, i):
    items = list(items)
    items[i], items[i + 1] = items[i + 1], items[i]
    return items


def _swapped(tuple_node, i):
    return _set(tuple_node, elts=_swapped_list(tuple_node.elts, i))


def _renamed(func, name):
    if isinstance(func, ast.Attribute):
        return _set(func, attr=name)
    return ast.Name(name)


def _keyword(call, i, value):
    """The call with keyword i given `value`, or dropped when value is None."""
    keywords = list(call.keywords)
    if value is None:
        del keywords[i]
    else:
        keywords[i] = ast.keyword(keywords[i].arg, value)
    return _set(call, keywords=keywords)


def _plus(expr, delta):
    if isinstance(expr, ast.Constant) and isinstance(expr.value, int):
        return ast.Constant(expr.value + delta)
    op = ast.Add() if delta > 0 else ast.Sub()
    return ast.BinOp(left=expr, op=op, right=ast.Constant(abs(delta)))


def _parse(text):
    return ast.parse(text, mode="eval").body
