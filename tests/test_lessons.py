"""The graded lessons, one set of tests per folder in solutions/.

- Every lesson follows the conventions of its cells (`convention_problems`): a code exercise is
  a solution cell followed by locked test cells, public ones opening with a one-line docstring,
  then hidden ones opening with HIDDEN_HEADER and holding nothing else (the released cell shows
  nothing); a written answer is a markdown cell that nbgrader grades by hand (grade and
  solution), explain_<topic>, with a model answer then a `**Rubric**` line in solutions/ and
  neither in lessons/; the graded cells add up to 100 points.
- Every solution notebook runs top to bottom on a real kernel, quietly, and each of its public
  test cells prints one line "Passed: ..." and nothing else; a hidden one prints nothing
  (`output_problems`). (Its run time against its budget is measured by
  benchmarks/notebooks.py, not asserted here: machines are shared.)
- lessons/ is exactly what `nncourse release` makes from solutions/.
- The real nbgrader autograde, with nbgrader's own steps (no sandbox: as an instructor without
  this course's grader would run it), gives the solution full marks on every autograded cell
  and leaves its written answers for a person (no score), gives the untouched release 0 on
  every graded cell, and each wrong answer of tests/fixtures/wrong_answers/<lesson>.py 0 on
  exactly the cells it lists.

The nbgrader steps run once per lesson, in a temporary course folder shared by that lesson's
tests (`graded`): one generate, then one autograde of all the "students" (the solution, the
untouched release, and the wrong answers, several to a student when they belong to different
exercises). The lessons are independent, so they are graded in parallel processes, all of them
as soon as the first is needed.
"""

import copy
import multiprocessing
import os
import re
import runpy
import sys
from concurrent.futures import ProcessPoolExecutor

import nbformat
import pytest

from nncourse.course import (
    LEAKS,
    RELEASE,
    ROOT,
    SOLUTIONS,
    copy_sources,
    exercises,
    lessons,
    notebook_path,
    number,
    points,
)

LESSONS = lessons()
FIXTURES = ROOT / "tests" / "fixtures" / "wrong_answers"
CELL_TIMEOUT_S = 600  # only to stop a hung kernel; run times are in benchmarks/notebooks.py
# the first line of every hidden-test cell (convention 3): all the released cell keeps
HIDDEN_HEADER = "# Hidden tests: run when the lesson is graded, on fresh random inputs."
PASSED = "Passed: "  # how the one line a passing public test cell prints starts (convention 2)


def solution_path(lesson):
    return notebook_path(SOLUTIONS, lesson)


def release_path(lesson):
    return notebook_path(RELEASE, lesson)


def code_exercises(nb):
    """{code solution cell's grade_id: [grade_ids of its test cells]}: the exercises that are
    graded by running tests (a written answer is graded by a person)."""
    from nncourse.grading.nbgrader import grade_id

    kinds = {grade_id(c): c.cell_type for c in nb.cells}
    return {k: tests for k, tests in exercises(nb).items() if kinds[k] == "code"}


def written_answers(nb):
    """[grade_id] of the written answers: markdown cells that nbgrader grades by hand."""
    from nncourse.grading.nbgrader import grade_id, is_written_answer

    return [grade_id(c) for c in nb.cells if is_written_answer(c)]


def autograded_points(nb):
    """{grade_id: points} of the graded cells nbgrader scores itself: all but written answers."""
    written = set(written_answers(nb))
    return {g: p for g, p in points(nb).items() if g not in written}


def is_hidden_test(cell):
    return "### BEGIN HIDDEN TESTS" in cell.source


def convention_problems(nb, released, lesson_number):
    """What in a lesson's source notebook nb and its release breaks the conventions of its
    cells (this module's docstring): a list of messages, empty when it follows them."""
    import ast

    from nncourse.grading.nbgrader import (
        RUBRIC,
        grade_id,
        is_grade,
        is_locked,
        is_solution,
        is_written_answer,
        max_points,
    )

    problems = []
    worth = points(nb)
    if sum(worth.values()) != 100:
        problems.append(f"points (written answers included) add up to {sum(worth.values())}: "
                        f"{worth}")
    ids = [grade_id(c) for c in nb.cells if grade_id(c) is not None]
    if len(ids) != len(set(ids)):
        problems.append(f"duplicate grade_ids in {ids}")
    code = [c for c in nb.cells if c.cell_type == "code"]
    if not (code and is_locked(code[0]) and not is_solution(code[0]) and not is_grade(code[0])):
        problems.append("the first code cell must be locked, set-up only")
    elif "from nncourse import check" not in code[0].source:
        problems.append("the first cell imports the checks")
    if lesson_number <= 4 and any(re.search(r"^\s*(import|from)\s+tensorflow", c.source, re.M)
                                  for c in code):
        problems.append("lessons 1-4 must not import TensorFlow")

    released_cells = {grade_id(c): c for c in released.cells if grade_id(c) is not None}
    exercise = None  # the kind of the last solution cell above: code or markdown
    for cell in nb.cells:
        gid = grade_id(cell)
        first = cell.source.splitlines()[0] if cell.source.strip() else ""
        out = released_cells.get(gid)
        if is_solution(cell):
            exercise = cell.cell_type
        if is_written_answer(cell):
            meta = cell.metadata.nbgrader
            lines = cell.source.splitlines()
            at = next((i for i, line in enumerate(lines) if line.startswith(RUBRIC)), None)
            if not re.fullmatch(r"explain_[a-z0-9_]+", gid):
                problems.append(f"{gid}: a written answer's grade_id is explain_<topic>")
            if meta.get("locked") or meta.get("schema_version") != 3 or not max_points(cell) > 0:
                problems.append(f"{gid}: a written answer is unlocked, schema_version 3, with "
                                f"points: {dict(meta)}")
            if at is None or not "\n".join(lines[:at]).strip():
                problems.append(f"{gid}: a model answer, then a line starting with {RUBRIC}")
            elif not any(line.lstrip().startswith(("- ", "* ")) for line in lines[at + 1:]):
                problems.append(f"{gid}: the rubric's criteria are bullets after {RUBRIC}")
            if out is None:
                problems.append(f"{gid}: not in the release (run `nncourse release`)")
            elif RUBRIC in out.source or (at is not None and
                                          "\n".join(lines[:at]).strip() in out.source):
                problems.append(f"{gid}: the release must have the cell without the model "
                                "answer and the rubric")
        elif is_grade(cell):
            if not (cell.cell_type == "code" and is_locked(cell) and not is_solution(cell)):
                problems.append(f"{gid}: a test cell is a locked code cell, not a solution")
            if not (gid.startswith("test_") and max_points(cell) > 0):
                problems.append(f"{gid}: a test cell's grade_id starts with test_, with points")
            if exercise != "code":
                problems.append(f"{gid}: a test cell follows the code solution cell it tests")
            if is_hidden_test(cell):
                if first != HIDDEN_HEADER or not re.fullmatch(
                        r"[^\n]*\n### BEGIN HIDDEN TESTS\n.*\n### END HIDDEN TESTS\s*",
                        cell.source, re.S):
                    problems.append(f"{gid}: a hidden-test cell is the line {HIDDEN_HEADER!r} "
                                    "then only the hidden region")
                if out is not None and ast.parse(out.source).body:
                    problems.append(f"{gid}: the released hidden-test cell still runs "
                                    f"statements: {out.source!r}")
            elif not re.fullmatch(r'""".+"""', first):
                problems.append(f"{gid}: a public test cell opens with a one-line docstring")
        elif is_solution(cell) and "### BEGIN SOLUTION" not in cell.source:
            problems.append(f"{gid}: a code solution cell has ### BEGIN SOLUTION")
        elif cell.cell_type == "markdown" and RUBRIC in cell.source:
            problems.append(f"a markdown cell that is not a written answer has a rubric: "
                            f"{cell.source[:60]!r}")

    for solution_id, tests in code_exercises(nb).items():
        hidden = [t for t in tests if is_hidden_test(_cell(nb, t))]
        if not (hidden and len(hidden) < len(tests)):
            problems.append(f"{solution_id}: needs public tests and hidden tests, has {tests}")
        elif tests[:len(tests) - len(hidden)] != [t for t in tests if t not in hidden]:
            problems.append(f"{solution_id}: public tests come first, then hidden: {tests}")
    return problems


def output_problems(nb):
    """What the outputs of a solution notebook run top to bottom break: each public test cell
    prints one stdout line starting with "Passed: " and nothing else; a hidden-test cell
    shows nothing; no cell writes to stderr. A list of messages."""
    from nncourse.grading.nbgrader import grade_id, is_grade

    problems = []
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        gid = grade_id(cell) or cell.get("id")
        stderr = [o.text for o in cell.outputs if o.output_type == "stream"
                  and o.name == "stderr"]
        if stderr:
            problems.append(f"{gid} wrote to stderr: {''.join(stderr)[:300]!r}")
        if not is_grade(cell):
            continue
        shown = [o for o in cell.outputs if not (o.output_type == "stream"
                                                 and o.name == "stdout")]
        printed = "".join(o.text for o in cell.outputs if o.output_type == "stream"
                          and o.name == "stdout")
        if is_hidden_test(cell):
            if cell.outputs:
                problems.append(f"{gid}: a hidden-test cell shows nothing, it showed "
                                f"{[o.output_type for o in cell.outputs]} {printed[:200]!r}")
        elif shown or len(printed.splitlines()) != 1 or not printed.startswith(PASSED):
            problems.append(f"{gid}: a passing public test cell prints one line starting with "
                            f"{PASSED!r} and nothing else; it showed "
                            f"{[o.output_type for o in shown]} {printed[:300]!r}")
    return problems


def wrong_answers(lesson):
    path = FIXTURES / f"{lesson}.py"
    return runpy.run_path(str(path))["WRONG_ANSWERS"] if path.is_file() else []


def with_answers(nb, answers):
    """A copy of notebook nb with each answer's source put in the solution cell it targets."""
    from nncourse.grading.nbgrader import grade_id

    nb = copy.deepcopy(nb)
    sources = {a["cell"]: a["source"].strip() for a in answers}
    for cell in nb.cells:
        if grade_id(cell) in sources:
            cell.source = sources[grade_id(cell)]
    return nb


def students_for(lesson, nb):
    """{student id: (notebook, [the wrong answers it holds])} for one autograde run.

    A wrong answer whose cells all belong to its own exercise shares a student with wrong
    answers to the other exercises; one that loses cells elsewhere (a patched library breaks
    every later check) gets a student of its own.
    """
    cells_of = code_exercises(nb)
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


def autograde_lesson(lesson, course):
    """Generate one lesson in `course` and autograde all its students with nbgrader's own
    steps; return {student: {grade_id: score}}. Runs in a worker process."""
    from nncourse.grading import nbgrader

    db_url = f"sqlite:///{course / 'gradebook.db'}"
    copy_sources(course, [lesson])
    nbgrader.generate(course, [lesson], db_url)
    students = students_for(lesson, nbformat.read(solution_path(lesson), as_version=4))
    for student, (nb, _) in students.items():
        target = notebook_path(course / "submitted" / student, lesson)
        target.parent.mkdir(parents=True)
        nbformat.write(nb, target)
    failure = nbgrader.autograde(course, db_url, lesson)
    assert failure is None, f"nbgrader autograde {lesson} failed:\n{failure}"
    return {student: {g: score for g, (score, _) in nbgrader.scores(db_url, lesson,
                                                                    student).items()}
            for student in students}


class GradedLesson:
    """One lesson generated and autograded in a temporary course folder."""

    def __init__(self, lesson, course, scores):
        self.lesson, self.course, self.scores = lesson, course, scores
        self.solution = nbformat.read(solution_path(lesson), as_version=4)
        self.students = students_for(lesson, self.solution)

    def why(self, student, grade_id):
        """The error or stderr text of a graded cell in the autograded notebook."""
        from nncourse.grading import nbgrader

        path = notebook_path(self.course / "autograded" / student, self.lesson)
        cell = next(c for c in nbformat.read(path, as_version=4).cells
                    if nbgrader.grade_id(c) == grade_id)
        texts = [o.get("text", "") if o.output_type == "stream" else
                 f"{o.get('ename')}: {o.get('evalue')}" for o in cell.outputs
                 if o.output_type == "error" or o.get("name") == "stderr"]
        return "\n".join(texts)[:500] or "(no error)"


@pytest.fixture(scope="session")
def graded(request, tmp_path_factory):
    """graded(lesson) -> GradedLesson. At first use, every lesson that a selected test needs is
    graded, in parallel worker processes (one per core, at most two: each also runs a kernel);
    a test waits only for its own lesson."""
    needed = sorted({item.callspec.params["lesson"] for item in request.session.items
                     if "graded" in getattr(item, "fixturenames", ())
                     and "lesson" in getattr(getattr(item, "callspec", None), "params", {})},
                    key=number, reverse=True)  # later lessons take longest: start them first
    courses = {lesson: tmp_path_factory.mktemp(lesson) for lesson in needed}
    pool = ProcessPoolExecutor(max(1, min(2, os.cpu_count() or 1)),
                               mp_context=multiprocessing.get_context("spawn"))
    futures = {lesson: pool.submit(autograde_lesson, lesson, courses[lesson])
               for lesson in needed}
    cache = {}

    def get(lesson):
        if lesson not in cache:
            cache[lesson] = GradedLesson(lesson, courses[lesson], futures[lesson].result())
        return cache[lesson]

    yield get
    pool.shutdown(cancel_futures=True)


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
    from nncourse.grading.nbgrader import is_solution

    for cell in nb.cells:
        leaks = [marker for marker in LEAKS if marker in cell.source]
        assert not leaks, f"released cell {cell.get('id')} contains {leaks}"
        if is_solution(cell) and cell.cell_type == "code":
            assert "raise NotImplementedError()" in cell.source, cell.source


@pytest.mark.parametrize("lesson", LESSONS)
def test_lesson_follows_the_grading_conventions(lesson):
    nb = nbformat.read(solution_path(lesson), as_version=4)
    assert nb.metadata.kernelspec.name == "python3"
    problems = convention_problems(nb, nbformat.read(release_path(lesson), as_version=4),
                                   number(lesson))
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("lesson", LESSONS)
def test_every_exercise_has_wrong_answer_fixtures(lesson):
    nb = nbformat.read(solution_path(lesson), as_version=4)
    answers = wrong_answers(lesson)
    cells_of, worth = code_exercises(nb), autograded_points(nb)  # written answers: no fixtures
    missing = set(cells_of) - {a["cell"] for a in answers}
    assert not missing, f"add wrong answers to {FIXTURES / lesson}.py for {sorted(missing)}"
    names = [a["name"] for a in answers]
    assert len(names) == len(set(names)), f"duplicate names in {names}"
    for answer in answers:
        assert re.fullmatch(r"[a-z0-9_]+", answer["name"]), answer["name"]
        assert answer["cell"] in cells_of, f"{answer['name']}: no solution cell {answer['cell']}"
        assert answer["loses"] and set(answer["loses"]) <= set(worth), answer["name"]


def _cell(nb, wanted):
    from nncourse.grading.nbgrader import grade_id

    return next(c for c in nb.cells if grade_id(c) == wanted)


# ------------------------------------------------------------------ running the solutions


@pytest.mark.notebooks
@pytest.mark.parametrize("lesson", LESSONS)
def test_solution_runs_quietly(lesson):
    from nbclient import NotebookClient

    nb = nbformat.read(solution_path(lesson), as_version=4)
    nb.cells.append(nbformat.v4.new_code_cell("import sys; print(sys.prefix)", id="which-python"))
    NotebookClient(nb, kernel_name="python3", timeout=CELL_TIMEOUT_S,
                   resources={"metadata": {"path": str(solution_path(lesson).parent)}}).execute()

    assert nb.cells.pop().outputs[0].text.strip() == sys.prefix, (
        "the python3 kernel is not this Python; install ipykernel in this environment")
    problems = output_problems(nb)
    assert not problems, "\n".join(problems)


# ------------------------------------------------------------------ nbgrader


def test_release_refuses_an_unknown_lesson(tmp_path, capsys):
    from nncourse import cli

    with pytest.raises(SystemExit) as stopped:
        cli.main(["release", "--lesson", "06_bogus", "--out", str(tmp_path)])
    assert stopped.value.code == 2
    assert "argument --lesson: invalid choice: '06_bogus' (choose from '01_loss_and_cost'" in (
        capsys.readouterr().err)
    assert not any(tmp_path.iterdir())


@pytest.mark.grading
def test_committed_release_is_what_the_release_command_makes(tmp_path, capsys):
    """`nncourse release --out TMP` (not into lessons/) gives the committed lessons/, byte for
    byte, and says so for each notebook."""
    from nncourse import cli

    assert cli.main(["release", "--out", str(tmp_path)]) == 0
    printed = capsys.readouterr().out.splitlines()
    assert len(printed) == len(LESSONS) and all("no solution code" in p for p in printed)
    fresh = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*") if p.is_file())
    committed = sorted(p.relative_to(RELEASE) for p in RELEASE.rglob("*") if p.is_file())
    assert fresh == committed
    changed = [str(name) for name in fresh
               if (tmp_path / name).read_bytes() != (RELEASE / name).read_bytes()]
    assert not changed, f"lessons/ differs from the release of solutions/ in {changed}: " \
                        "run `nncourse release`"


@pytest.mark.grading
@pytest.mark.parametrize("lesson", LESSONS)
def test_autograded_solution_gets_full_marks(lesson, graded):
    """Full points on every autograded cell; each written answer (the model answer) awaits
    a person: no score, neither 0 nor full."""
    result = graded(lesson)
    scores = result.scores["solution"]
    worth = autograded_points(result.solution)
    lost = {g: result.why("solution", g) for g, p in worth.items() if scores[g] != p}
    assert not lost, f"the solution lost points in {lost}"
    written = written_answers(result.solution)
    assert {g: scores[g] for g in written} == dict.fromkeys(written), scores
    assert sum(worth.values()) + sum(points(result.solution)[g] for g in written) == 100


@pytest.mark.grading
@pytest.mark.parametrize("lesson", LESSONS)
def test_autograded_untouched_release_scores_zero(lesson, graded):
    """0 on every graded cell: the tests fail, and nbgrader scores a written answer left as
    released 0 ("No response.") without waiting for a person."""
    result = graded(lesson)
    scores = result.scores["untouched"]
    assert set(scores) == set(points(result.solution)), scores
    assert all(s == 0 for s in scores.values()), scores


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
    cells_of = code_exercises(result.solution)
    others = {g for a in group if a["name"] != name for g in cells_of[a["cell"]]}
    assert not others & set(cells_of[answer["cell"]])
    scores = result.scores[student]
    wrong = {g: f"expected {0 if g in answer['loses'] else p}, got {scores[g]}: "
                f"{result.why(student, g)}"
             for g, p in autograded_points(result.solution).items() if g not in others
             and scores[g] != (0 if g in answer["loses"] else p)}
    assert not wrong, f"{name} ({answer['why']}):\n" + "\n".join(
        f"{g}: {text}" for g, text in wrong.items())
