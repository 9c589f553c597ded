"""What an instructor reads after grading: the flags of a graded notebook, the class table and
the per-exercise figure.

Flags come from named markers, never from prose: the `ename` of a cell's error outputs (the
AssertionError subclasses of nncourse.check, the limits' markers, Python's MemoryError) and a
mark the grader sets in a cell's metadata when it cut the cell's output. What a student prints
is never read, so printing "MemoryError" flags nothing, and rewording a check's message to the
learner cannot switch a flag off.
"""

import csv
from collections import defaultdict

from nncourse import check
from nncourse.course import number
from nncourse.grading.limits import CELL_TIMEOUT, KERNEL_DIED, NOTEBOOK_TIME_LIMIT, OUTPUT_TRUNCATED

# ename of an error output -> the flag the instructor reads
FLAGS = {
    CELL_TIMEOUT: "a cell ran longer than the time limit (an endless loop?)",
    NOTEBOOK_TIME_LIMIT: "the notebook ran longer than its time limit; later cells were not run",
    KERNEL_DIED: "the kernel died in a cell (os._exit, a crash, or memory)",
    "MemoryError": "a cell ran out of memory",
    check.CalledNnlib.__name__: "an answer called nnlib instead of computing the result: review",
    check.LibraryReplaced.__name__: "NumPy or nnlib was patched: review",
    check.CheckSwitchedOff.__name__: "an answer tried to switch off the tests' checks: review",
}
TRUNCATED = "very long output (truncated)"


def flags(notebook):
    """The flags of a graded notebook, each once, in the order they first occur."""
    return list(dict.fromkeys(flag for flag, _ in located_flags(notebook)))


def located_flags(notebook):
    """[(flag, index of the cell that raised it)] of a graded notebook, in cell order."""
    found = []
    for index, cell in enumerate(notebook.cells):
        enames = [o.get("ename") for o in cell.get("outputs", [])
                  if o.get("output_type") == "error"]
        found += [(FLAGS[name], index) for name in enames if name in FLAGS]
        if cell.get("metadata", {}).get(OUTPUT_TRUNCATED):
            found.append((TRUNCATED, index))
    return found


def write_flags_csv(results, path):
    """OUT/flags.csv, beside nbgrader's grades.csv: one row per flag (student, lesson, flag),
    for a reviewer who works from the spreadsheet rather than formgrader; return path."""
    with open(path, "w", newline="") as file:
        rows = csv.writer(file)
        rows.writerow(["student_id", "assignment", "flag"])
        for r in sorted(results, key=lambda r: (r.student, r.lesson)):
            rows.writerows([r.student, r.lesson, flag] for flag in r.flags)
    return path


def awaiting_text(result):
    """What of a student's lesson awaits a person, e.g. "2 answers await manual grading
    (10 points)"; "" when nothing does."""
    waiting = result.awaiting
    if not waiting:
        return ""
    worth = sum(maximum for _, maximum in waiting)
    answers = "1 answer awaits" if len(waiting) == 1 else f"{len(waiting)} answers await"
    return f"{answers} manual grading ({worth:g} point{'' if worth == 1 else 's'})"


def class_table(results, lessons):
    """Text table: one row per student, score per lesson, total, and notes: the flags, and the
    written answers that await manual grading (their points are not in the scores yet)."""
    by_student = defaultdict(dict)
    for r in results:
        by_student[r.student][r.lesson] = r
    header = ["student", *lessons, "total", "notes"]
    rows = []
    for student in sorted(by_student):
        graded = by_student[student]
        scores = [f"{graded[lesson].score:g}" if lesson in graded else "-" for lesson in lessons]
        total = sum(r.score for r in graded.values())
        noted = "; ".join(f"{number(lesson):02d}: {note}"
                          for lesson, r in sorted(graded.items())
                          for note in [*r.flags, awaiting_text(r)] if note)
        rows.append([student, *scores, f"{total:g}", noted])
    widths = [max(len(str(row[i])) for row in [header, *rows]) for i in range(len(header) - 1)]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=False)) + "  "
             + row[-1] for row in [header, *rows]]
    return "\n".join(line.rstrip() for line in lines)


def exercise_figure(results, path):
    """Per lesson, the class's mean fraction of points on each graded cell: what was missed.
    An answer that awaits manual grading is left out (a cell no one has a score on yet, too)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    cells = defaultdict(lambda: defaultdict(list))  # lesson -> grade_id -> [fraction]
    for r in results:
        for grade_id, (score, maximum) in r.scores.items():
            if score is not None:
                cells[r.lesson][grade_id].append(score / maximum if maximum else 0.0)
    lessons = sorted(cells)
    fig, axes = plt.subplots(len(lessons), 1, figsize=(10, 2.6 * max(len(lessons), 1)),
                             squeeze=False)
    for ax, lesson in zip(axes[:, 0], lessons, strict=True):
        ids = list(cells[lesson])
        means = [sum(v) / len(v) for v in cells[lesson].values()]
        ax.bar(range(len(ids)), means, color="tab:blue")
        ax.set_xticks(range(len(ids)), ids, rotation=60, ha="right", fontsize=7)
        ax.set_ylim(0, 1)
        ax.set_ylabel("mean score")
        ax.set_title(f"{lesson}: fraction of the points the class earned, per test cell",
                     fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path
