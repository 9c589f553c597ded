"""What `nncourse audit` shows: a table per exercise, and a report with every survivor's diff.

Columns: mutants; killed by a public test (the learner sees the mistake before grading);
killed only by a hidden test (it costs points at grading, unseen before); survived (grading
gives full points to a wrong answer); equivalent (a survivor reviewed as right on every input
the exercise allows); public % = killed in public / (mutants - equivalent).
"""

import ast
import difflib
from collections import Counter

from nncourse.audit import EQUIVALENT, HIDDEN_ONLY, PUBLIC, SURVIVED

COLUMNS = ("lesson", "exercise", "mutants", "public", "hidden only", "survived", "equivalent",
           "public %")


def counts(rows):
    """{(lesson, exercise): Counter of statuses}, in the rows' order; plus per-lesson totals
    under (lesson, "all") and the course's under ("all", "all")."""
    table = {}
    for row in rows:
        for key in ((row.lesson, row.mutant.cell), (row.lesson, "all"), ("all", "all")):
            table.setdefault(key, Counter())[row.status] += 1
    exercises = [k for k in table if k[1] != "all"]
    totals = [k for k in table if k[1] == "all" and k[0] != "all"]
    return {k: table[k] for k in exercises + totals + [("all", "all")]}


def public_share(counter):
    """Killed in public / non-equivalent mutants, in percent (100 when there are none)."""
    real = sum(counter.values()) - counter[EQUIVALENT]
    return 100.0 * counter[PUBLIC] / real if real else 100.0


def table(rows):
    """The audit table as aligned text, one line per exercise, then lesson and course totals."""
    lines = [COLUMNS]
    for (lesson, exercise), c in counts(rows).items():
        lines.append((lesson, exercise, str(sum(c.values())), str(c[PUBLIC]),
                      str(c[HIDDEN_ONLY]), str(c[SURVIVED]), str(c[EQUIVALENT]),
                      f"{public_share(c):.0f}"))
    widths = [max(len(line[i]) for line in lines) for i in range(len(COLUMNS))]
    return "\n".join("  ".join(text.ljust(w) if i < 2 else text.rjust(w)
                               for i, (text, w) in enumerate(zip(line, widths, strict=True)))
                     for line in lines)


def markdown(audit):
    """The report: the table, then every survivor as a diff, the mutants that only hidden
    tests kill, the reviewed equivalents and stale review entries."""
    rows = audit.rows
    parts = ["# nncourse audit", "", "Mutants of each exercise's solution and the lesson's "
             "hand-written wrong answers, graded with the lesson's real test cells.", "",
             _markdown_table(rows), ""]
    survivors = [r for r in rows if r.status == SURVIVED]
    parts += [f"## Survivors ({len(survivors)})", "",
              "Wrong answers (unless equivalent: then review them into "
              "tests/fixtures/equivalent_mutants.py with the reason) that get full points.", ""]
    for row in survivors:
        parts += _entry(row)
    hidden = [r for r in rows if r.status == HIDDEN_ONLY]
    parts += [f"## Killed only by a hidden test ({len(hidden)})", "",
              "A learner working alone does not see these mistakes before grading.", ""]
    for row in hidden:
        parts += _entry(row, f"lost points in `{row.verdict.by}`: {row.verdict.message}")
    equivalent = [r for r in rows if r.status == EQUIVALENT]
    parts += [f"## Reviewed as equivalent ({len(equivalent)})", ""]
    for row in equivalent:
        parts += _entry(row, f"equivalent: {row.reason}")
    if audit.stale:
        parts += ["## Stale entries in tests/fixtures/equivalent_mutants.py", "",
                  "These ids are no longer surviving mutants (the solution or its tests "
                  "changed): review them again or remove them.", ""]
        parts += [f"- {lesson} `{key}`: {reason}" for lesson, key, reason in audit.stale]
    return "\n".join(parts) + "\n"


def diff(row):
    """The mutant against the solution, as a unified diff of the code (comments dropped)."""
    before = ast.unparse(ast.parse(row.original)).splitlines()
    after = ast.unparse(ast.parse(row.mutant.source)).splitlines()
    return "\n".join(difflib.unified_diff(before, after, "solution", row.mutant.id,
                                          lineterm="", n=1))


def _entry(row, note=""):
    lines = [f"### {row.lesson} · {row.mutant.cell} · {row.mutant.kind} · `{row.mutant.id}`",
             "", row.mutant.change, ""]
    if note:
        lines += [note, ""]
    return lines + ["```diff", diff(row), "```", ""]


def _markdown_table(rows):
    lines = ["| " + " | ".join(COLUMNS) + " |", "|" + "---|" * len(COLUMNS)]
    for (lesson, exercise), c in counts(rows).items():
        cells = (lesson, exercise, sum(c.values()), c[PUBLIC], c[HIDDEN_ONLY], c[SURVIVED],
                 c[EQUIVALENT], f"{public_share(c):.0f}")
        lines.append("| " + " | ".join(str(x) for x in cells) + " |")
    return "\n".join(lines)
