"""The graded lessons, one set of tests per folder in solutions/.

- Every solution notebook runs top to bottom on a real kernel, quietly. (Its run time against its
  budget is measured by benchmarks/notebooks.py, not asserted here: machines are shared.)
- lessons/ is exactly what `nbgrader generate_assignment` makes from solutions/.
- The real `nbgrader autograde` gives the solution 100, the untouched release 0 on every
  graded cell, and each wrong answer of tests/fixtures/wrong_answers/<lesson>.py 0 on exactly
  the cells it lists.

The nbgrader steps run once per lesson, in a temporary course directory shared by that
lesson's tests (`graded`): one generate_assignment, then one autograde of all the "students"
(the solution, the untouched release, and the wrong answers, several to a student when they
belong to different exercises). nbgrader is the one installed beside sys.executable.
"""

import copy
import os
import re
import runpy
import shutil
import subprocess
import sys
from pathlib import Path
from unittest import mock

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
LESSONS = sorted(p.parent.name for p in (ROOT / "solutions").glob("*/*.ipynb")
                 if p.stem == p.parent.name)
FIXTURES = ROOT / "tests" / "fixtures" / "wrong_answers"
CELL_TIMEOUT_S = 600  # only to stop a hung kernel; run times are in benchmarks/notebooks.py
LEAKS = ("BEGIN SOLUTION", "END SOLUTION", "BEGIN HIDDEN TESTS", "END HIDDEN TESTS")
BIN = str(Path(sys.executable).parent)  # nbgrader runs `alembic` from PATH


def solution_path(lesson):
    return ROOT / "solutions" / lesson / f"{lesson}.ipynb"


def release_path(lesson):
    return ROOT / "lessons" / lesson / f"{lesson}.ipynb"


def nbgrader_meta(cell):
    return cell.metadata.get("nbgrader", {})


def graded_cells(nb):
    """{grade_id: points} of the graded test cells, in notebook order."""
    return {nbgrader_meta(c)["grade_id"]: nbgrader_meta(c)["points"]
            for c in nb.cells if nbgrader_meta(c).get("grade")}


def exercises(nb):
    """{solution cell grade_id: [grade_ids of the graded cells up to the next solution cell]}."""
    result, current = {}, None
    for cell in nb.cells:
        meta = nbgrader_meta(cell)
        if meta.get("solution"):
            current = result.setdefault(meta["grade_id"], [])
        elif meta.get("grade") and current is not None:
            current.append(meta["grade_id"])
    return result


def wrong_answers(lesson):
    path = FIXTURES / f"{lesson}.py"
    return runpy.run_path(str(path))["WRONG_ANSWERS"] if path.is_file() else []


def with_answers(nb, answers):
    """A copy of notebook nb with each answer's source put in the solution cell it targets."""
    nb = copy.deepcopy(nb)
    sources = {a["cell"]: a["source"].strip() for a in answers}
    for cell in nb.cells:
        if nbgrader_meta(cell).get("grade_id") in sources:
            cell.source = sources[nbgrader_meta(cell)["grade_id"]]
    return nb


def students_for(lesson, nb):
    """{student id: (notebook, [the wrong answers it holds])} for one autograde run.

    A wrong answer whose cells all belong to its own exercise shares a student with wrong
    answers to the other exercises; one that loses cells elsewhere (a patched library breaks
    every later check) gets a student of its own.
    """
    cells_of = exercises(nb)
    alone, packable = [], {}
    for answer in wrong_answers(lesson):
        if set(answer["loses"]) <= set(cells_of.get(answer["cell"], ())):
            packable.setdefault(answer["cell"], []).append(answer)
        else:
            alone.append(answer)
    groups = [[a] for a in alone]
    for k in range(max(map(len, packable.values()), default=0)):
        groups.append([answers[k] for answers in packable.values() if k < len(answers)])
    students = {"solution": (nb, []),
                "untouched": (nbformat.read(release_path(lesson), as_version=4), [])}
    for k, group in enumerate(groups, start=1):
        student = group[0]["name"] if len(group) == 1 else f"wrong_answers_{k - len(alone)}"
        students[student] = (with_answers(nb, group), group)
    return students


def run_nbgrader(course, *args):
    env = {**os.environ, "PATH": BIN + os.pathsep + os.environ.get("PATH", "")}
    done = subprocess.run([sys.executable, "-m", "nbgrader", *args], cwd=course, env=env,
                          capture_output=True, text=True, timeout=1800)
    # nbgrader logs "[<App> | ERROR] ..." for a notebook it could not process
    assert done.returncode == 0 and "| ERROR]" not in done.stderr, (
        f"nbgrader {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")


class GradedLesson:
    """One lesson generated and autograded in a temporary course directory."""

    def __init__(self, lesson, course):
        self.lesson, self.course = lesson, course
        shutil.copy(ROOT / "nbgrader_config.py", course)
        shutil.copytree(ROOT / "solutions" / lesson, course / "solutions" / lesson)
        run_nbgrader(course, "generate_assignment", lesson)
        self.solution = nbformat.read(solution_path(lesson), as_version=4)
        self.students = students_for(lesson, self.solution)
        for student, (nb, _) in self.students.items():
            target = course / "submitted" / student / lesson / f"{lesson}.ipynb"
            target.parent.mkdir(parents=True)
            nbformat.write(nb, target)
        run_nbgrader(course, "autograde", lesson)
        self.scores = self._read_gradebook()

    def _read_gradebook(self):
        """{student: {grade_id: score}} as nbgrader's gradebook has them."""
        from nbgrader.api import Gradebook

        with mock.patch.dict(os.environ, {"PATH": BIN + os.pathsep + os.environ["PATH"]}):
            with Gradebook(f"sqlite:///{self.course / 'gradebook.db'}") as gb:
                return {student: {g.name: g.score for g in gb.find_submission_notebook(
                    self.lesson, self.lesson, student).grades}
                    for student in self.students}

    def why(self, student, grade_id):
        """The error or stderr text of a graded cell in the autograded notebook."""
        path = self.course / "autograded" / student / self.lesson / f"{self.lesson}.ipynb"
        cell = next(c for c in nbformat.read(path, as_version=4).cells
                    if nbgrader_meta(c).get("grade_id") == grade_id)
        texts = [o.get("text", "") if o.output_type == "stream" else
                 f"{o.get('ename')}: {o.get('evalue')}" for o in cell.outputs
                 if o.output_type == "error" or o.get("name") == "stderr"]
        return "\n".join(texts)[:500] or "(no error)"


@pytest.fixture(scope="session")
def graded(tmp_path_factory):
    """graded(lesson) -> GradedLesson, built once per lesson per test session."""
    cache = {}

    def get(lesson):
        if lesson not in cache:
            cache[lesson] = GradedLesson(lesson, tmp_path_factory.mktemp(lesson))
        return cache[lesson]

    return get


# ------------------------------------------------------------------ the files as committed


@pytest.mark.parametrize("lesson", LESSONS)
def test_notebooks_are_stored_without_outputs(lesson):
    for path in (solution_path(lesson), release_path(lesson)):
        nb = nbformat.read(path, as_version=4)
        dirty = [c.get("id") for c in nb.cells if c.cell_type == "code"
                 and (c.outputs or c.execution_count is not None or "execution" in c.metadata)]
        assert not dirty, (f"{path.relative_to(ROOT)}: outputs, execution counts or timings "
                           f"in cells {dirty}")


@pytest.mark.parametrize("lesson", LESSONS)
def test_release_has_no_solution_and_no_hidden_test(lesson):
    nb = nbformat.read(release_path(lesson), as_version=4)
    for cell in nb.cells:
        leaks = [marker for marker in LEAKS if marker in cell.source]
        assert not leaks, f"released cell {cell.get('id')} contains {leaks}"
        if nbgrader_meta(cell).get("solution"):
            assert "raise NotImplementedError()" in cell.source, cell.source


@pytest.mark.parametrize("lesson", LESSONS)
def test_lesson_follows_the_grading_conventions(lesson):
    nb = nbformat.read(solution_path(lesson), as_version=4)
    points = graded_cells(nb)
    assert sum(points.values()) == 100, f"points add up to {sum(points.values())}: {points}"
    ids = [nbgrader_meta(c)["grade_id"] for c in nb.cells if nbgrader_meta(c)]
    assert len(ids) == len(set(ids)), f"duplicate grade_ids in {ids}"
    assert nb.metadata.kernelspec.name == "python3"

    code = [c for c in nb.cells if c.cell_type == "code"]
    first = nbgrader_meta(code[0])
    assert first.get("locked") and not first.get("solution") and not first.get("grade"), (
        "the first code cell must be locked, set-up only")
    assert "from nncourse import check" in code[0].source, "the first cell imports the checks"
    if int(lesson[:2]) <= 4:
        assert not any(re.search(r"^\s*(import|from)\s+tensorflow", c.source, re.M)
                       for c in code), "lessons 1-4 must not import TensorFlow"

    for cell in nb.cells:
        meta = nbgrader_meta(cell)
        if meta.get("grade"):
            gid = meta["grade_id"]
            assert cell.cell_type == "code" and meta["locked"] and not meta["solution"], gid
            assert gid.startswith("test_") and meta["points"] > 0, gid
            first_line = cell.source.splitlines()[0]
            assert re.fullmatch(r'""".+"""', first_line), f"{gid} must open with a docstring"
        if meta.get("solution"):
            assert "### BEGIN SOLUTION" in cell.source and not meta.get("grade"), meta

    for solution_id, tests in exercises(nb).items():
        hidden = [t for t in tests if "### BEGIN HIDDEN TESTS" in _source(nb, t)]
        assert hidden and len(hidden) < len(tests), (
            f"{solution_id}: needs public tests and hidden tests, has {tests}")


@pytest.mark.parametrize("lesson", LESSONS)
def test_every_exercise_has_wrong_answer_fixtures(lesson):
    nb = nbformat.read(solution_path(lesson), as_version=4)
    answers = wrong_answers(lesson)
    cells_of, points = exercises(nb), graded_cells(nb)
    missing = set(cells_of) - {a["cell"] for a in answers}
    assert not missing, f"add wrong answers to {FIXTURES / lesson}.py for {sorted(missing)}"
    names = [a["name"] for a in answers]
    assert len(names) == len(set(names)), f"duplicate names in {names}"
    for answer in answers:
        assert re.fullmatch(r"[a-z0-9_]+", answer["name"]), answer["name"]
        assert answer["cell"] in cells_of, f"{answer['name']}: no solution cell {answer['cell']}"
        assert answer["loses"] and set(answer["loses"]) <= set(points), answer["name"]


def _source(nb, grade_id):
    return next(c.source for c in nb.cells if nbgrader_meta(c).get("grade_id") == grade_id)


# ------------------------------------------------------------------ running the solutions


@pytest.mark.notebooks
@pytest.mark.parametrize("lesson", LESSONS)
def test_solution_runs_quietly(lesson):
    from nbclient import NotebookClient

    nb = nbformat.read(solution_path(lesson), as_version=4)
    nb.cells.append(nbformat.v4.new_code_cell("import sys; print(sys.prefix)", id="which-python"))
    NotebookClient(nb, kernel_name="python3", timeout=CELL_TIMEOUT_S,
                   resources={"metadata": {"path": str(solution_path(lesson).parent)}}).execute()

    assert nb.cells[-1].outputs[0].text.strip() == sys.prefix, (
        "the python3 kernel is not this Python; install ipykernel in this environment")
    noisy = {c.get("id"): o.text for c in nb.cells if c.cell_type == "code"
             for o in c.outputs if o.output_type == "stream" and o.name == "stderr"}
    assert not noisy, f"cells wrote to stderr: {noisy}"


# ------------------------------------------------------------------ nbgrader


@pytest.mark.grading
@pytest.mark.parametrize("lesson", LESSONS)
def test_committed_release_is_what_nbgrader_generates(lesson, graded):
    fresh, committed = graded(lesson).course / "lessons" / lesson, ROOT / "lessons" / lesson
    fresh_files = sorted(p.relative_to(fresh) for p in fresh.rglob("*") if p.is_file())
    committed_files = sorted(p.relative_to(committed) for p in committed.rglob("*")
                             if p.is_file())
    assert committed_files == fresh_files
    for name in fresh_files:
        assert (committed / name).read_bytes() == (fresh / name).read_bytes(), (
            f"lessons/{lesson}/{name} differs from nbgrader's release of solutions/: "
            f"regenerate it with `nbgrader generate_assignment {lesson} --force`")


@pytest.mark.grading
@pytest.mark.parametrize("lesson", LESSONS)
def test_autograded_solution_gets_full_marks(lesson, graded):
    result = graded(lesson)
    points = graded_cells(result.solution)
    scores = result.scores["solution"]
    lost = {g: result.why("solution", g) for g, p in points.items() if scores[g] != p}
    assert not lost, f"the solution lost points in {lost}"
    assert sum(scores.values()) == 100


@pytest.mark.grading
@pytest.mark.parametrize("lesson", LESSONS)
def test_autograded_untouched_release_scores_zero(lesson, graded):
    scores = graded(lesson).scores["untouched"]
    assert scores and all(s == 0 for s in scores.values()), scores


WRONG = [(lesson, answer) for lesson in LESSONS for answer in wrong_answers(lesson)]


@pytest.mark.grading
@pytest.mark.parametrize(("lesson", "answer"), WRONG,
                         ids=[f"{lesson}-{answer['name']}" for lesson, answer in WRONG])
def test_wrong_answer_loses_exactly_its_cells(lesson, answer, graded):
    """The cells of this answer's exercise score 0 if listed in `loses` and full otherwise;
    so do the cells of exercises that no other wrong answer in the same student targets."""
    result = graded(lesson)
    name = answer["name"]
    student, group = next((s, g) for s, (_, g) in result.students.items()
                          if name in [a["name"] for a in g])
    cells_of = exercises(result.solution)
    others = {g for a in group if a["name"] != name for g in cells_of[a["cell"]]}
    assert not others & set(cells_of[answer["cell"]])
    points = graded_cells(result.solution)
    scores = result.scores[student]
    wrong = {g: f"expected {0 if g in answer['loses'] else p}, got {scores[g]}: "
                f"{result.why(student, g)}"
             for g, p in points.items() if g not in others
             and scores[g] != (0 if g in answer["loses"] else p)}
    assert not wrong, f"{name} ({answer['why']}):\n" + "\n".join(
        f"{g}: {text}" for g, text in wrong.items())
