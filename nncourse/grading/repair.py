"""Put a submitted notebook back into the released shape before it is autograded.

Students delete, duplicate, reorder and retype cells, edit locked test cells, or save a file
that is not a notebook at all. The autograder copes with some of this and fails the whole
notebook on the rest. `repair` rebuilds the notebook from the released one: every cell in
the released order; locked and test cells exactly as released; each solution cell with the
student's code (or text, for a written answer) from the cell that carries its grade_id (the
first, if duplicated), in the released cell type; and the student's own extra code cells kept
after the released cell they followed. Each anomaly is returned as a short note for the
instructor.
"""

import ast
import json

import nbformat

from nncourse.grading.nbgrader import grade_id as nbgrader_id
from nncourse.grading.nbgrader import is_solution

# Modules whose attributes an answer must never set: the references, the checks, Python.
PROTECTED = {"numpy", "nnlib", "nncourse", "sys", "builtins", "importlib", "inspect", "gc"}
FORBIDDEN_CALLS = {"setattr", "delattr", "settrace", "setprofile", "__import__", "exec", "eval"}


def read_submission(path):
    """The submitted notebook as a NotebookNode, or (None, reason) when it is not one."""
    text = path.read_bytes()
    if not text.strip():
        return None, "the submitted file is empty"
    try:
        return nbformat.reads(text.decode("utf-8"), as_version=4), ""
    except (UnicodeDecodeError, json.JSONDecodeError, nbformat.reader.NotJSONError) as error:
        return None, f"the submitted file is not a notebook ({type(error).__name__})"
    except Exception as error:  # nbformat's validation errors have no common base class
        return None, f"the submitted file is not a valid notebook ({type(error).__name__})"


def repair(submitted, released):
    """Return (notebook to grade, notes) from the student's and the released notebooks."""
    notes = []
    released_ids = [nbgrader_id(c) for c in released.cells]
    # solution cell's grade_id -> its cell type: code, or markdown for a written answer
    solution_ids = {nbgrader_id(c): c.cell_type for c in released.cells if is_solution(c)}
    plain_sources = {c.source for c in released.cells if nbgrader_id(c) is None}
    answers, extras, anchor = {}, {}, None
    seen_order = []
    for cell in submitted.cells:
        grade_id = nbgrader_id(cell)
        if grade_id is not None and grade_id in released_ids:
            seen_order.append(grade_id)
            anchor = grade_id
            if grade_id in solution_ids:
                if grade_id in answers:
                    notes.append(f"cell {grade_id!r} appears twice; the first copy was graded")
                    continue
                if cell.cell_type != solution_ids[grade_id]:
                    notes.append(f"cell {grade_id!r} was changed to {cell.cell_type}; "
                                 f"its text was graded as {solution_ids[grade_id]}")
                answers[grade_id] = cell.source
            elif cell.source != released.cells[released_ids.index(grade_id)].source:
                notes.append(f"locked cell {grade_id!r} was edited; the released version "
                             "was graded")
        elif cell.cell_type == "code" and cell.source.strip() and \
                cell.source not in plain_sources:  # a released plain cell runs anyway
            extras.setdefault(anchor, []).append(cell.source)
    missing = [g for g in released_ids if g is not None and g not in seen_order]
    if missing:
        notes.append(f"cells missing from the submission were restored: {', '.join(missing)}")
    known = [g for g in seen_order if g is not None]
    if known != sorted(known, key=released_ids.index):
        notes.append("cells were reordered; they were graded in the released order")

    aliases = _module_aliases(submitted)
    for grade_id, source in list(answers.items()):
        if solution_ids[grade_id] != "code":  # a written answer is read by a person, not run
            continue
        tampering = tampers(source, aliases)
        if tampering:
            notes.append(f"answer {grade_id!r} {tampering}; it was not run and scores 0: review")
            answers[grade_id] = (f"raise RuntimeError({('this answer ' + tampering)!r} "
                                 "' and was not run')")

    repaired = nbformat.v4.new_notebook(metadata=released.metadata)
    repaired.cells.extend(_extra_cells(extras.get(None, [])))
    for cell in released.cells:
        cell = nbformat.from_dict(json.loads(json.dumps(cell)))  # a copy
        grade_id = nbgrader_id(cell)
        if grade_id in answers:
            cell.source = answers[grade_id]
        repaired.cells.append(cell)
        if grade_id is not None:
            repaired.cells.extend(_extra_cells(extras.get(grade_id, [])))
    return repaired, notes


def _extra_cells(sources):
    return [nbformat.v4.new_code_cell(source) for source in sources]


def _module_aliases(notebook):
    """{name: module} for every `import x as name` / `from x import name` in the notebook."""
    aliases = {"np": "numpy", "check": "nncourse"}
    for cell in notebook.cells:
        try:
            tree = ast.parse(cell.source if cell.cell_type == "code" else "")
        except SyntaxError:
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                for a in node.names:
                    aliases[(a.asname or a.name).split(".")[0]] = a.name.split(".")[0]
            elif isinstance(node, ast.ImportFrom) and node.module:
                for a in node.names:
                    aliases[a.asname or a.name] = node.module.split(".")[0]
    return aliases


def tampers(source, aliases):
    """What a solution cell does to the libraries the tests rely on, or "" if nothing.

    Flags assigning to or deleting an attribute or item of NumPy, nnlib, nncourse (the checks)
    or Python's machinery (`np.log = ...`, `check.compare = ...`, `sys.modules[...] = ...`),
    and calling setattr, delattr, sys.settrace/setprofile, exec, eval or __import__.
    An honest answer needs none of these.
    """
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return ""  # nbgrader reports the syntax error itself
    for node in ast.walk(tree):
        targets = []
        if isinstance(node, ast.Assign | ast.Delete):
            targets = node.targets
        elif isinstance(node, ast.AugAssign | ast.AnnAssign):
            targets = [node.target]
        for target in targets:
            root = target
            while isinstance(root, ast.Attribute | ast.Subscript):
                root = root.value
            if root is not target and isinstance(root, ast.Name) \
                    and aliases.get(root.id) in PROTECTED:
                return f"modifies {ast.unparse(target)}"
        if isinstance(node, ast.Call):
            name = node.func.attr if isinstance(node.func, ast.Attribute) else \
                getattr(node.func, "id", "")
            if name in FORBIDDEN_CALLS:
                return f"calls {name}()"
    return ""
