"""Grade many mutants of one exercise on one sandboxed kernel: the verdict of each.

Real grading runs a whole notebook per submission. Here one kernel (the sandboxed kernel of
`nncourse grade`, with its limits) runs the lesson's cells before the exercise once, then for
each mutant:

1. removes the names the solution cell defines (so a mutant that fails to define them meets
   a NameError, as in a fresh notebook), runs the mutant in the solution cell's place;
2. runs the cells that follow, up to the exercise's last test cell, as the learner has them:
   non-graded cells as they are, test cells without their hidden part. A test cell that
   loses points (nbgrader's own `determine_grade`: an error or stderr output) kills the
   mutant "in public": the learner sees the mistake before grading;
3. otherwise runs the test cells that hold hidden tests, whole, in order: one that loses
   points kills the mutant "only by a hidden test"; if none does, the mutant survived.

Why this gives real grading's verdict: the cells run are the autograded notebook's cells, in
its order, on its kernel and limits; what differs is the state left by earlier mutants. The
solution is run the same way before the first mutant and after the last one (a sentinel):
both must keep full points, or the exercise is graded again with a fresh kernel per mutant.
A hand-written wrong answer (which may patch a library) is always followed by the sentinel.
`nncourse audit --verify K` also grades K mutants per lesson with `nncourse grade` itself
and reports any verdict that differs.
"""

import ast
import copy
import os
import re
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import DeadKernelError
from nbgrader.utils import determine_grade
from traitlets.config import Config

from nncourse.audit.mutants import defined_names
from nncourse.grading.limits import CELL_TIMEOUT
from nncourse.grading.nbgrader import grade_id, is_grade, is_solution
from nncourse.grading.sandbox import SandboxedKernelManager

HIDDEN = re.compile(r"^[ \t]*### BEGIN HIDDEN TESTS.*?^[ \t]*### END HIDDEN TESTS[^\n]*\n?",
                    re.M | re.S)
PUBLIC, HIDDEN_ONLY, SURVIVED = "public", "hidden", "survived"


@dataclass
class Verdict:
    """What grading made of one mutant."""
    status: str  # PUBLIC, HIDDEN_ONLY or SURVIVED
    by: str = ""  # grade_id of the first test cell that lost points
    message: str = ""  # what that cell showed (the first line of its error)


def public_part(source):
    """A test cell as the learner has it: without its hidden tests (as nbgrader releases it)."""
    return HIDDEN.sub("", source)


def has_hidden(source):
    return bool(HIDDEN.search(source))


class ExerciseRunner:
    """One kernel for the mutants of one exercise (the solution cell with grade_id `cell`)."""

    def __init__(self, notebook, cell, limits):
        self.nb = notebook
        self.index = next(i for i, c in enumerate(notebook.cells)
                          if is_solution(c) and grade_id(c) == cell)
        self.solution = notebook.cells[self.index].source
        self.names = defined_names(self.solution)
        tests = [i for i, c in enumerate(notebook.cells) if is_grade(c) and i > self.index]
        nxt = [i for i, c in enumerate(notebook.cells) if is_solution(c) and i > self.index]
        tests = [i for i in tests if not nxt or i < nxt[0]]
        self.span = [i for i in range(self.index + 1, tests[-1] + 1)
                     if notebook.cells[i].cell_type == "code"]
        self.limits = limits
        config = Config()
        config.SandboxedKernelManager.hidden = list(limits.hidden)
        config.SandboxedKernelManager.readable = list(limits.readable)
        config.SandboxedKernelManager.memory_limit_mb = limits.memory_mb
        self.client = NotebookClient(
            copy.deepcopy(notebook), kernel_name="python3", timeout=limits.cell_s,
            allow_errors=True, interrupt_on_timeout=True, config=config,
            kernel_manager_class=SandboxedKernelManager,
            error_on_timeout={"ename": CELL_TIMEOUT, "evalue": f"ran over {limits.cell_s} s",
                              "traceback": []})

    # ---------------------------------------------------------------- the kernel

    def start(self):
        """Start a kernel and run every code cell before the exercise (solutions included)."""
        self.client.km = self.client.create_kernel_manager()
        self.client.start_new_kernel(cwd=os.getcwd())
        self.client.start_new_kernel_client()
        for i, cell in enumerate(self.nb.cells[:self.index]):
            if cell.cell_type == "code":
                self._run(cell.source, i)

    def stop(self):
        self.client._cleanup_kernel()

    def restart(self):
        self.stop()
        self.client.km = self.client.kc = None
        self.start()

    def _run(self, source, index, graded=False):
        """Run source in the kernel as cell `index`; return its lost points' text or ""."""
        cell = nbformat.v4.new_code_cell(source)
        if graded:
            cell.metadata = self.nb.cells[index].metadata
        try:
            self.client.execute_cell(cell, index)
        except DeadKernelError:
            self.restart()
            return "KernelDied: the kernel stopped while running this cell"
        if not graded:
            return ""
        score, max_score = determine_grade(cell)
        return "" if score == max_score else _failure(cell)

    # ---------------------------------------------------------------- verdicts

    def verdict(self, source):
        """Run the exercise with `source` in the solution cell; return a Verdict."""
        self._run(f"for _name in {self.names!r}:\n    globals().pop(_name, None)\n"
                  "globals().pop(\"_name\", None)", self.index)
        self._run(source, self.index)
        for i in self.span:
            cell = self.nb.cells[i]
            if not is_grade(cell):
                self._run(cell.source, i)
            elif not has_hidden(cell.source) or _has_code(public_part(cell.source)):
                failure = self._run(public_part(cell.source), i, graded=True)
                if failure:
                    return Verdict(PUBLIC, grade_id(cell), failure)
        for i in self.span:
            cell = self.nb.cells[i]
            if is_grade(cell) and has_hidden(cell.source):
                failure = self._run(cell.source, i, graded=True)
                if failure:
                    return Verdict(HIDDEN_ONLY, grade_id(cell), failure)
        return Verdict(SURVIVED)

    def solution_passes(self):
        return self.verdict(self.solution).status == SURVIVED


def run_exercise(lesson_folder, lesson, cell, mutants, limits):
    """{mutant id: Verdict} for the mutants of one exercise, graded in a temporary copy of
    the lesson's folder (the kernel's working folder). Runs in a worker process."""
    with tempfile.TemporaryDirectory(prefix="nncourse-audit-") as tmp:
        work = Path(tmp) / lesson
        shutil.copytree(lesson_folder, work)
        os.chdir(work)  # the sandbox makes the current folder the kernel's, and writable
        notebook = nbformat.read(work / f"{lesson}.ipynb", as_version=4)
        runner = ExerciseRunner(notebook, cell, limits)
        runner.start()
        try:
            if not runner.solution_passes():
                raise RuntimeError(f"{lesson}: the solution of {cell} fails its own tests: "
                                   f"{runner.verdict(runner.solution)}")
            verdicts = {}
            for mutant in mutants:
                verdicts[mutant.id] = runner.verdict(mutant.source)
                if mutant.kind == "hand-written" and not runner.solution_passes():
                    runner.restart()  # it changed the kernel for good (e.g. patched NumPy)
            if not runner.solution_passes():  # an earlier mutant left the kernel changed
                verdicts = {}
                for mutant in mutants:
                    runner.restart()
                    verdicts[mutant.id] = runner.verdict(mutant.source)
            return verdicts
        finally:
            runner.stop()
            os.chdir(tempfile.gettempdir())


def _has_code(source):
    """Whether a cell does anything beyond comments and a docstring."""
    try:
        body = ast.parse(source).body
    except SyntaxError:
        return True
    return any(not (isinstance(s, ast.Expr) and isinstance(s.value, ast.Constant))
               for s in body)


def _failure(cell):
    """The first line of what made a graded cell lose its points."""
    for output in cell.outputs:
        if output.output_type == "error":
            text = f"{output.ename}: {output.evalue}"
            break
        if output.output_type == "stream" and output.name == "stderr":
            text = f"stderr: {output.text}"
            break
    else:
        text = "partial credit"
    return text.strip().splitlines()[0][:200] if text.strip() else text
