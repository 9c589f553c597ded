"""Build the sample class in examples/class/ from the released lessons, and its expected grades.

    python examples/make_class.py

Each student starts from the released notebook, as a real student does, and fills in some
exercises: with the instructor's solution, with a wrong answer from
tests/fixtures/wrong_answers/ (whose `loses` lists the test cells it must lose), or not at
all. So the expected score of every test cell is known without grading anything: full points,
except 0 for the cells of an unanswered exercise and the cells a wrong answer loses.
A written answer (a markdown cell nbgrader leaves for a person) is answered with the model
answer of the lesson's source, without its rubric, or left as released: its expected grade is
null when answered (it awaits manual grading: no score until a person gives one) and 0 when
left as released (nbgrader scores an unchanged answer 0, "No response.").
The expected grades are written to examples/expected_grades.json.

    python examples/make_class.py [--out FOLDER]   (default: examples/; FOLDER/class and
                                                    FOLDER/expected_grades.json)
"""

import argparse
import json
import re
import runpy
from pathlib import Path

import nbformat

from nncourse.course import RELEASE, ROOT, SOLUTIONS, exercises, notebook_path, points
from nncourse.grading.nbgrader import grade_id, is_solution, is_written_answer, split_rubric

EXAMPLES = ROOT / "examples"
ENDLESS = "while True:  # waiting for something that never happens\n    pass\n\n"

# student -> lesson -> {solution cell grade_id: "solution" | wrong answer name | "endless"}
# ("all" answers every exercise of the lesson with the solution, written answers included;
# a written answer, explain_<topic>, takes only "solution"); flat=True hands the files in as
# <student>_<lesson>.ipynb, as learning platforms export them.
STUDENTS = {
    "ada": {"lessons": {lesson: "all" for lesson in
                        ("01_loss_and_cost", "02_training_a_network", "03_activation_functions",
                         "04_why_nonlinearity", "05_tensorflow_side_by_side")}},
    "ben": {"lessons": {"01_loss_and_cost": {}, "02_training_a_network": {}}},  # blank
    "cleo": {"lessons": {"01_loss_and_cost": {"binary_crossentropy": "solution",
                                              "mean_squared_error": "solution",
                                              "bce_from_logits": "logits_overflow_silenced"}}},
    "dan": {"lessons": {
        "01_loss_and_cost": {"binary_crossentropy": "bce_no_minus_sign",
                             "mean_squared_error": "solution", "cost": "cost_divides_by_size"},
        "02_training_a_network": {"dense_forward": "forward_no_bias",
                                  "network_forward": "solution",
                                  "dense_backward": "solution",
                                  "network_backward": "netbwd_grads_reversed",
                                  "gradient_descent_step": "solution", "train": "solution"}}},
    "eve": {"flat": True, "lessons": {"03_activation_functions": {
        "sigmoid": "solution", "sigmoid_prime": "solution", "relu": "endless",
        "relu_prime": "solution", "choose_output": "solution"}}},
    "finn": {"flat": True, "lessons": {"01_loss_and_cost": {
        "binary_crossentropy": "bce_calls_nnlib", "mean_squared_error": "solution",
        "cost": "cost_calls_nnlib"}}},
}


def solution_code(source):
    """A solution cell as a student would have written it: without nbgrader's markers."""
    return re.sub(r"^\s*### (BEGIN|END) SOLUTION\n", "", source, flags=re.M)


def model_answer(source):
    """A written answer as a student would have written it: the model answer, without the
    rubric (the lines from the one starting with **Rubric**)."""
    return split_rubric(source)[0]


def build(student, lesson, answers):
    """(the student's notebook, {grade_id: expected points, None for a written answer that
    awaits manual grading}) for one lesson."""
    solution = nbformat.read(notebook_path(SOLUTIONS, lesson), 4)
    notebook = nbformat.read(notebook_path(RELEASE, lesson), 4)
    fixture = ROOT / "tests" / "fixtures" / "wrong_answers" / f"{lesson}.py"
    wrong = {a["name"]: a for a in runpy.run_path(str(fixture))["WRONG_ANSWERS"]}
    cells_of = exercises(solution)
    if answers == "all":
        answers = dict.fromkeys(cells_of, "solution")
    code = {grade_id(c): model_answer(c.source) if is_written_answer(c) else
            solution_code(c.source) for c in solution.cells if is_solution(c)}
    written = {grade_id(c) for c in solution.cells if is_written_answer(c)}
    lost, awaiting = set(), set()
    for exercise, tests in cells_of.items():
        answer = answers.get(exercise)
        if exercise in written:
            if answer not in (None, "solution"):
                raise ValueError(f"{student} {lesson}: the written answer {exercise} is "
                                 f"answered with the model answer or not at all, not {answer!r}")
            (awaiting if answer else lost).add(exercise)
        elif answer is None:
            lost |= set(tests)  # left as released: raise NotImplementedError()
        elif answer == "endless":
            code[exercise] = ENDLESS + code[exercise]  # times out: the function never exists
            lost |= set(tests)
        elif answer != "solution":
            code[exercise] = wrong[answer]["source"]
            lost |= set(wrong[answer]["loses"])
    for cell in notebook.cells:
        if is_solution(cell) and answers.get(grade_id(cell)) is not None:
            cell.source = code[grade_id(cell)]
    expected = {g: None if g in awaiting else 0 if g in lost else p
                for g, p in points(solution).items()}
    return notebook, expected


def main(argv=None):
    parser = argparse.ArgumentParser(description="Build the sample class and its expected "
                                                 "grades.")
    parser.add_argument("--out", type=Path, default=EXAMPLES,
                        help="where class/ and expected_grades.json go (default: examples/)")
    out = parser.parse_args(argv).out
    expected = {}
    for student, plan in STUDENTS.items():
        for lesson, answers in plan["lessons"].items():
            notebook, cells = build(student, lesson, answers)
            expected.setdefault(student, {})[lesson] = cells
            path = (out / "class" / f"{student}_{lesson}.ipynb" if plan.get("flat")
                    else out / "class" / student / lesson / f"{lesson}.ipynb")
            path.parent.mkdir(parents=True, exist_ok=True)
            nbformat.write(notebook, path)
    text = json.dumps(expected, indent=1, sort_keys=True) + "\n"
    (out / "expected_grades.json").write_text(text)
    print(f"wrote {sum(len(p['lessons']) for p in STUDENTS.values())} notebooks in "
          f"{out / 'class'}")


if __name__ == "__main__":
    main()
