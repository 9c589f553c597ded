"""What a grading folder OUT remembers between runs of `nncourse grade`, so that nothing is
lost and a re-run grades only what changed.

    OUT/.nncourse-grading   marker: OUT was made by `nncourse grade`; any other folder that is
                            not empty is refused, so a mistyped --out cannot mix into it
    OUT/graded.json         per student and lesson: the fingerprint of what was graded (the
                            submitted file and the lesson's source notebook) and its flags

A submission whose fingerprint is unchanged keeps its grade, and its flags are shown again
without running it. nbgrader could not grade a notebook? It is not remembered (and not
recorded: the gradebook keeps its earlier grade, if any), so the next run tries it again.
The file names the gradebook it describes: graded into another gradebook, everything is graded
again.
"""

import hashlib
import json
import os
from pathlib import Path

MARKER = ".nncourse-grading"
STATE = "graded.json"


def check_out(out):
    """Raise ValueError when OUT is a file, or a folder that is not empty and not ours."""
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise ValueError(f"--out {out} is a file, not a folder")
    if out.is_dir() and any(out.iterdir()) and not (out / MARKER).exists():
        raise ValueError(f"--out {out} is not empty and was not made by `nncourse grade`: "
                         "give a new folder or a previous grading folder")


def claim(out):
    """Create OUT if needed and mark it as a grading folder."""
    out.mkdir(parents=True, exist_ok=True)
    (out / MARKER).write_text("made by nncourse grade; its results are kept across runs\n")


def digest(path):
    """The SHA-256 of a file's bytes."""
    return hashlib.sha256(Path(path).read_bytes()).digest()


def fingerprint(submitted, source_digest):
    """SHA-256 of a submitted file and of the lesson's source notebook (its tests and points;
    `digest` of it, taken once per lesson): a new submission or changed tests give another
    fingerprint."""
    return hashlib.sha256(digest(submitted) + source_digest).hexdigest()


def gradebook(out):
    """The URL of the gradebook OUT's results were recorded in, or None before any grading."""
    path = Path(out) / STATE
    return json.loads(path.read_text()).get("db_url") if path.exists() else None


def load(out, db_url):
    """{(student, lesson): {"fingerprint": ..., "flags": [...]}} of the submissions graded
    into db_url by earlier runs; {} for a new folder or another gradebook."""
    path = Path(out) / STATE
    if not path.exists():
        return {}
    saved = json.loads(path.read_text())
    if saved.get("db_url") != db_url:
        return {}
    return {(e["student"], e["lesson"]): e for e in saved["graded"]}


def save(out, db_url, results, earlier):
    """Remember the results graded now with the earlier entries, atomically (an interrupted run
    leaves the previous file). A notebook nbgrader failed on keeps its earlier entry, if any,
    whose fingerprint differs from the failed one's: the next run tries it again."""
    graded = dict(earlier)
    for r in results:
        if not r.failure:
            graded[(r.student, r.lesson)] = {"student": r.student, "lesson": r.lesson,
                                             "fingerprint": r.fingerprint, "flags": r.flags}
    path = Path(out) / STATE
    partial = path.with_suffix(".partial")
    partial.write_text(json.dumps({"db_url": db_url, "graded": [graded[k] for k in
                                                                 sorted(graded)]}, indent=1))
    os.replace(partial, path)
