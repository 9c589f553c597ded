"""Find a class's submissions: a folder per student, a flat folder, or a zip of a flat folder.

    per student (the autograder's layout):  SUBMISSIONS/<student>/<lesson>/<lesson>.ipynb
    flat (as learning platforms export): SUBMISSIONS/<student>_<lesson>.ipynb, or a .zip of them

Every file is either a `Submission` or a `Skipped` with the reason it was not understood, so
an instructor can see what was left out and why.
"""

import re
import zipfile
from dataclasses import dataclass
from pathlib import Path

STUDENT_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9.-]*$")  # safe as a folder name and a db key


@dataclass(frozen=True)
class Submission:
    student: str
    lesson: str
    path: Path  # the notebook file as handed in (may be empty or not even JSON)


@dataclass(frozen=True)
class Skipped:
    path: str
    reason: str


def find_submissions(source, lessons, unpack_to=None):
    """Return (submissions sorted by student and lesson, skipped files).

    source: a folder (either layout) or a .zip (flat layout inside, folders allowed);
    lessons: the lesson names that can be graded, e.g. ["01_loss_and_cost"];
    unpack_to: where a zip is extracted (required for a zip).
    """
    source = Path(source)
    if source.is_file() and source.suffix == ".zip":
        if unpack_to is None:
            raise ValueError("unpack_to is required to read a zip of submissions")
        source = _unpack(source, Path(unpack_to))
    if not source.is_dir():
        raise FileNotFoundError(f"No folder or .zip of submissions at {source}")
    found, skipped = {}, []
    for path in sorted(p for p in source.rglob("*") if p.is_file()):
        relative = path.relative_to(source)
        if any(part.startswith(".") for part in relative.parts) or "__MACOSX" in relative.parts:
            continue  # hidden files and archive debris are not submissions
        student_lesson, reason = _identify(relative, lessons)
        if reason:
            skipped.append(Skipped(str(relative), reason))
        elif student_lesson in found:
            skipped.append(Skipped(str(relative), f"a second file for student {student_lesson[0]!r}"
                                   f" and lesson {student_lesson[1]!r}; graded: "
                                   f"{found[student_lesson].path.relative_to(source)}"))
        else:
            found[student_lesson] = Submission(*student_lesson, path)
    return [found[key] for key in sorted(found)], skipped


def _identify(relative, lessons):
    """((student, lesson), "") for a recognised notebook, else (None, reason)."""
    parts = relative.parts
    if relative.suffix != ".ipynb":
        return None, "not a notebook (.ipynb)"
    if len(parts) == 3:  # per student: <student>/<lesson>/<lesson>.ipynb
        student, lesson, name = parts
        if lesson not in lessons:
            return None, f"unknown lesson folder {lesson!r}; expected one of {sorted(lessons)}"
        if name != f"{lesson}.ipynb":
            return None, f"expected the notebook to be named {lesson}.ipynb"
    elif len(parts) in (1, 2):  # flat: [folder/]<student>_<lesson>.ipynb
        stem = relative.stem
        lesson = next((name for name in sorted(lessons, key=len, reverse=True)
                       if stem.endswith("_" + name)), None)
        if lesson is None:
            return None, ("expected <student>_<lesson>.ipynb with a lesson among "
                          f"{sorted(lessons)}")
        student = stem[: -len(lesson) - 1]
    else:
        return None, "too deep: expected <student>/<lesson>/<lesson>.ipynb"
    if not STUDENT_ID.match(student):
        return None, (f"student id {student!r} must be letters, digits, '.' or '-' "
                      "(and start with a letter or digit)")
    return (student, lesson), ""


def _unpack(archive, destination):
    """Extract a zip safely: no absolute paths, no '..', no links; return the folder."""
    destination.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(archive) as zf:
        for info in zf.infolist():
            name = Path(info.filename)
            if name.is_absolute() or ".." in name.parts:
                continue  # would escape the destination
            if info.is_dir():
                continue
            target = destination / name
            target.parent.mkdir(parents=True, exist_ok=True)
            with zf.open(info) as src:
                target.write_bytes(src.read())
    return destination
