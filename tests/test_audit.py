"""nncourse audit: mutants of a solution, graded with its lesson's real test cells.

The tiny lesson below has one exercise, `error(y, f) = |f - y|`, whose five mutants are known
by hand: np.abs dropped, f + y, |f|, |y|, and |y - f| (right for every input: reviewed as
equivalent). Its public test (y = 0, f = 2) is deliberately weak and kills only |y|; its
hidden test (y = 2, f = 1) kills f - y and |f + y| but not |f|, which must survive.
"""

import json

import nbformat
import pytest

from nncourse.audit import EQUIVALENT, HIDDEN_ONLY, PUBLIC, SURVIVED, audit
from nncourse.audit.mutants import mutants, solution_lines
from nncourse.audit.report import markdown, table
from nncourse.audit.runner import public_part

LESSON = "99_tiny"
SOLUTION = '''def error(y, f):
    """|f - y| for every entry."""
    ### BEGIN SOLUTION
    return np.abs(f - y)
    ### END SOLUTION
'''
PUBLIC_TEST = '''"""error is |f - y| for y = 0, f = 2."""
assert np.allclose(error(np.array([0.0]), np.array([2.0])), [2.0]), "expected 2"
print("Passed: error(0, 2) is 2.")
'''
HIDDEN_TEST = '''# Hidden tests: run when the lesson is graded, on fresh random inputs.
### BEGIN HIDDEN TESTS
assert np.allclose(error(np.array([2.0]), np.array([1.0])), [1.0]), "expected 1"
### END HIDDEN TESTS
'''
WRONG_ANSWERS = '''WRONG_ANSWERS = [{"name": "squared", "why": "squares instead of abs",
                  "cell": "error", "loses": ["test_error_public"],
                  "source": "def error(y, f):\\n    return (f - y) ** 2\\n"}]
'''


def cell(kind, source, grade_id=None, points=0):
    make = nbformat.v4.new_markdown_cell if kind == "markdown" else nbformat.v4.new_code_cell
    c = make(source)
    if grade_id:
        c.metadata.nbgrader = {"grade_id": grade_id, "locked": kind != "solution",
                               "solution": kind == "solution", "grade": kind == "test",
                               "schema_version": 3, **({"points": points} if points else {})}
    return c


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    """(source folder, fixtures folder) of the tiny lesson, its equivalent mutant reviewed."""
    root = tmp_path_factory.mktemp("tiny")
    nb = nbformat.v4.new_notebook(cells=[
        cell("code", "import numpy as np", "setup"),
        cell("markdown", "Write `error`."),
        cell("solution", SOLUTION, "error"),
        cell("test", PUBLIC_TEST, "test_error_public", 5),
        cell("test", HIDDEN_TEST, "test_error_hidden", 5)])
    nb.metadata.kernelspec = {"name": "python3", "display_name": "Python 3",
                              "language": "python"}
    (root / "source" / LESSON).mkdir(parents=True)
    nbformat.write(nb, root / "source" / LESSON / f"{LESSON}.ipynb")
    fixtures = root / "fixtures"
    (fixtures / "wrong_answers").mkdir(parents=True)
    (fixtures / "wrong_answers" / f"{LESSON}.py").write_text(WRONG_ANSWERS)
    swapped = next(m for m in mutants(LESSON, "error", SOLUTION) if "y - f" in m.source)
    (fixtures / "equivalent_mutants.py").write_text(
        f"EQUIVALENT = {{{LESSON!r}: {{{swapped.id!r}: '|y - f| = |f - y|', "
        "'0123456789': 'an entry that matches no survivor'}}\n")
    return root / "source", fixtures


@pytest.fixture(scope="module")
def audited(tiny):
    source, fixtures = tiny
    return audit([LESSON], source=source, fixtures=fixtures, jobs=1, progress=lambda _: None)


def changed_line(row):
    return [line.strip() for line in row.mutant.source.splitlines() if "return" in line][0]


@pytest.mark.grading
def test_the_weak_test_lets_the_expected_mutant_survive(audited):
    found = {changed_line(r): r.status for r in audited.rows if r.mutant.kind != "hand-written"}
    assert found == {
        "return f - y": HIDDEN_ONLY,  # np.abs dropped: -1 at y = 2, f = 1
        "return np.abs(f + y)": HIDDEN_ONLY,
        "return np.abs(f)": SURVIVED,  # |1| = |1 - 2|: the hidden test cannot tell
        "return np.abs(y)": PUBLIC,  # 0 at y = 0, f = 2
        "return np.abs(y - f)": EQUIVALENT,
    }
    hidden = [r for r in audited.rows if r.status == HIDDEN_ONLY]
    assert {r.verdict.by for r in hidden} == {"test_error_hidden"}
    assert all("expected 1" in r.verdict.message for r in hidden)


@pytest.mark.grading
def test_hand_written_wrong_answers_are_graded_too(audited):
    (row,) = [r for r in audited.rows if r.mutant.kind == "hand-written"]
    assert row.mutant.change == "squared: squares instead of abs"
    assert (row.status, row.verdict.by) == (PUBLIC, "test_error_public")


@pytest.mark.grading
def test_table_and_report_show_the_survivor(audited):
    lines = table(audited.rows).splitlines()
    assert lines[0].split() == ["lesson", "exercise", "mutants", "public", "hidden", "only",
                                "survived", "equivalent", "public", "%"]
    # 6 mutants: 2 killed in public (|y|, squared) of 5 that are not equivalent: 40%
    assert lines[1].split() == [LESSON, "error", "6", "2", "2", "1", "1", "40"]
    report = markdown(audited)
    survivors = report.split("## Survivors (1)")[1].split("## Killed only")[0]
    assert "-    return np.abs(f - y)\n+    return np.abs(f)" in survivors
    assert "|y - f| = |f - y|" in report.split("## Reviewed as equivalent (1)")[1]
    assert audited.stale == [(LESSON, "0123456789", "an entry that matches no survivor")]


@pytest.mark.grading
def test_the_command_exits_1_while_a_survivor_is_not_reviewed(tiny, tmp_path, capsys):
    from nncourse.cli import main

    source, fixtures = tiny
    status = main(["audit", "--source", str(source), "--fixtures", str(fixtures), "--jobs",
                   "1", "--out", str(tmp_path)])
    printed = capsys.readouterr().out
    assert status == 1
    assert "1 survivor(s)" in printed and "stale entry" in printed
    assert (tmp_path / "report.md").read_text().startswith("# nncourse audit")


def test_mutants_edit_only_the_learners_lines():
    source = '''def fit(X, Y, epochs):
    """Docstring (X, Y): -1 stays."""
    ### BEGIN SOLUTION
    costs, Xb = [], X[::2]
    for epoch in range(epochs):
        costs.append(float(np.mean(Xb - Y, axis=0)))
    return costs, X[1:]
    ### END SOLUTION
'''
    found = mutants("L", "fit", source)
    changes = {m.change for m in found}
    assert {"line 2: range(epochs) -> range(epochs + 1)",  # off by one
            "line 3: Xb - Y -> Y - Xb",  # swapped operands
            "line 3: np.mean(Xb - Y, axis=0) -> np.mean(Xb - Y, axis=1)",
            "line 3: float(np.mean(Xb - Y, axis=0)) -> np.mean(Xb - Y, axis=0)",  # not a float
            "line 3: np.mean(Xb - Y, axis=0) -> Xb - Y",  # the mean dropped
            "line 4: return (costs, X[1:]) -> return (X[1:], costs)",  # return order
            "line 4: X[1:] -> X[2:]",
            "line 3: Xb -> X"} <= changes, sorted(changes)  # a look-alike variable
    first, last = solution_lines(source)
    for m in found:
        assert m.source.startswith('def fit(X, Y, epochs):\n    """Docstring (X, Y): -1 stays.')
    assert len({m.id for m in found}) == len({m.source for m in found}) == len(found)
    assert [m.id for m in mutants("L", "fit", source)] == [m.id for m in found]  # stable ids
    assert (first, last) == (4, 7)


def test_public_part_is_what_the_release_keeps():
    assert public_part(PUBLIC_TEST) == PUBLIC_TEST
    assert public_part(HIDDEN_TEST) == HIDDEN_TEST.splitlines(keepends=True)[0]
    mixed = '"""Both."""\nassert a\n### BEGIN HIDDEN TESTS\nassert b\n### END HIDDEN TESTS\n'
    assert public_part(mixed) == '"""Both."""\nassert a\n'


def test_reviewed_equivalents_file_is_well_formed():
    from nncourse.audit import FIXTURES, equivalents
    from nncourse.course import lessons

    reviewed = equivalents(FIXTURES)
    assert set(reviewed) <= set(lessons())
    for lesson, entries in reviewed.items():
        for key, reason in entries.items():
            assert len(key) == 10 and int(key, 16) >= 0, (lesson, key)
            assert len(reason) > 20, f"{lesson} {key}: say why it is equivalent"
    json.dumps(reviewed)  # plain data: reviewable in a diff


def test_verbose_is_not_mutated_other_keywords_are():
    source = '''def fit_quietly(model, X, Y):
    """Train for one epoch without printing."""
    ### BEGIN SOLUTION
    return model.fit(X, Y, batch_size=2, shuffle=False, verbose=0)
    ### END SOLUTION
'''
    changes = [m.change.split(" -> ")[-1] for m in mutants("L", "fit_quietly", source)]
    assert "model.fit(X, Y, batch_size=2, verbose=0)" in changes  # shuffle dropped
    assert "model.fit(X, Y, shuffle=False, verbose=0)" in changes  # batch_size dropped
    assert all("verbose=0" in change for change in changes if "model.fit" in change)


def test_verify_refuses_lessons_that_grading_would_not_use(tiny, capsys):
    from nncourse.cli import main

    source, fixtures = tiny
    status = main(["audit", "--source", str(source), "--fixtures", str(fixtures),
                   "--verify", "2"])
    assert status == 2
    assert "--verify grades with nncourse grade" in capsys.readouterr().err
