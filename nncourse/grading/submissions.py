"""Find a class's submissions in SUBMISSIONS: a folder, or a .zip of one, in any of these layouts.

    nbgrader's own:   <student>/<lesson>/<lesson>.ipynb             the folder name is the id
    flat:             <student>_<lesson>.ipynb                      jane_doe_01_loss_and_cost.ipynb
    Canvas download:  <name>[_LATE]_<user id>_<submission id>_<file name as handed in>
                      doejane_LATE_123456_7891011_01_loss_and_cost-1.ipynb   id: doejane
    Moodle download:  <Full Name>_<participant>_assignsubmission_file_/<any name with the lesson>
                      Jane Doe_123456_assignsubmission_file_/my_01_loss_and_cost.ipynb
                                                                             id: jane_doe

A flat or Canvas name may be one folder deep (a zip's top folder). The lesson is found in the
file name (for Canvas and Moodle anywhere in the name as handed in, else at the end after '_');
the rest is the name that identifies the student (a name that names two lessons is refused; a
name that fits Canvas's pattern, with a lesson after the two numbers, is read as Canvas's):
- Canvas: the login name before the user and submission numbers; `_LATE` after it only says the
  submission was late. Canvas appends `-1`, `-2`, ... to a file handed in again: the highest
  suffix is the latest resubmission and is graded, the earlier ones are skipped with the reason
  (a flat `<student>_<lesson>-2.ipynb` is read the same way).
- Moodle: the participant's full name, lower-cased, with every run of characters other than
  letters, digits, '.' and '-' turned into one '_' ("Jane Doe" -> jane_doe). Not the number:
  Moodle numbers participants per assignment, so it differs from one lesson to the next.
A roster (`--roster FILE`, see `read_roster`) maps these names to the gradebook's student ids;
with a roster, a download whose name is not in it is skipped with the reason. nbgrader's own
layout already names students by their ids and is not looked up in the roster.

A student id is any folder name nbgrader can use safely as a gradebook key and in its paths:
not empty, at most 128 characters (nbgrader's column), no whitespace at either end (nbgrader
strips it), not starting with '.' (hidden, and '.' and '..' are not folders), and none of
/ \\ , " * ? [ ] or unprintable characters (paths, nbgrader's unquoted grades.csv, and the glob
patterns nbgrader finds notebooks with). So `jane_doe`, `s_1234567`, `j.doe-2`, `2024x` are
ids; `.jane`, `a/b`, `doe, jane` are refused with the reason.

Every file is either a `Submission` or a `Skipped` with the reason it was not graded, so an
instructor can see what was left out and why; only archive debris (`__MACOSX/`,
`.ipynb_checkpoints/`, `.DS_Store`) is passed over silently.

nbgrader's `zip_collect` does this job with a `FileNameCollectorPlugin`: a named regular
expression matched against each file name. That plugin is one `re.match` with no reason when it
fails, does not know the lessons, resubmissions or Moodle's folders, and importing nbgrader
takes seconds, which SUBMISSIONS is checked before. So the expressions are plain ones here.
"""

import csv
import re
import unicodedata
import zipfile
from dataclasses import dataclass
from pathlib import Path

DEBRIS = {"__MACOSX", ".ipynb_checkpoints", ".DS_Store"}  # made by archivers and Jupyter
UNSAFE = set('/\\,"*?[]')  # path separators, grades.csv's delimiter and quote, glob patterns
MAX_ID = 128  # nbgrader's Student.id is a String(128)
CANVAS = re.compile(r"(?P<name>.+?)(?P<late>_LATE)?_(?P<user>\d+)_(?P<submission>\d+)_(?P<file>.+)")
MOODLE = re.compile(r"(?P<name>.+)_(?P<participant>\d+)_assignsubmission_file_?")
RESUBMISSION = re.compile(r"(?P<stem>.+)-(?P<attempt>\d+)")  # Canvas: file-1.ipynb, file-2...


@dataclass(frozen=True)
class Submission:
    student: str
    lesson: str
    path: Path  # the notebook file as handed in (may be empty or not even JSON)


@dataclass(frozen=True)
class Skipped:
    path: str
    reason: str


class RosterError(ValueError):
    """A roster file that cannot be read as `name,student_id` rows (the message says where)."""


@dataclass(frozen=True)
class Roster:
    """Names as they appear in downloads -> the gradebook's student ids."""
    path: Path
    ids: dict  # _key(name) -> student id

    def get(self, name):
        return self.ids.get(_key(name))


def id_problem(student):
    """Why `student` cannot be a student id (a phrase), or "" if it can; see the module doc."""
    if not student:
        return "is empty"
    if len(student) > MAX_ID:
        return f"is longer than {MAX_ID} characters"
    if student != student.strip():
        return "has whitespace at an end"
    if student.startswith("."):
        return "starts with '.' (a hidden or special folder name)"
    bad = sorted({c for c in student if c in UNSAFE or not c.isprintable()})
    if bad:
        return (f"contains {', '.join(repr(c) for c in bad)}; an id may not contain "
                "/ \\ , \" * ? [ ] or unprintable characters")
    return ""


def read_roster(path):
    """Read a roster CSV into a `Roster`; raise RosterError naming the file, line and problem.

    The first row is a header naming the columns `name` (as in the download: the Canvas login
    name, the Moodle folder's full name, or a flat file's prefix) and `student_id` (the id in
    the gradebook); other columns are ignored, so a registrar's export can be used as it is:

        name,student_id
        doejane,s_1234567
        Jane Doe,s_1234567

    Names are matched ignoring case and repeated spaces; several names may give one id.
    """
    path = Path(path)
    where = f"roster {path}"
    try:
        data = path.read_bytes()
    except OSError as error:
        raise RosterError(f"{where}: cannot be read ({error.strerror})") from None
    try:
        text = data.decode("utf-8-sig")  # Excel writes a byte-order mark
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        raise RosterError(f"{where}, line {line}: not UTF-8 text; save the CSV as UTF-8") from None
    reader = csv.reader(text.splitlines())
    header = [cell.strip().lower() for cell in next(reader, [])]
    if "name" not in header or "student_id" not in header:
        raise RosterError(f"{where}, line 1: expected a header row with the columns "
                          f"name,student_id; got {','.join(header) or 'an empty line'!r}")
    name_at, id_at = header.index("name"), header.index("student_id")
    ids, lines = {}, {}
    for row in reader:
        line = reader.line_num
        if not any(cell.strip() for cell in row):
            continue
        if len(row) <= max(name_at, id_at):
            raise RosterError(f"{where}, line {line}: expected {len(header)} columns "
                              f"({','.join(header)}); got {len(row)}: {','.join(row)!r}")
        name, student = row[name_at].strip(), row[id_at].strip()
        if not name:
            raise RosterError(f"{where}, line {line}: the name is empty; expected the name "
                              "in the download, then the student id")
        problem = id_problem(student)
        if problem:
            raise RosterError(f"{where}, line {line}: student id {student!r} {problem}")
        if _key(name) in ids:
            raise RosterError(f"{where}, line {line}: the name {name!r} is already on line "
                              f"{lines[_key(name)]}")
        ids[_key(name)], lines[_key(name)] = student, line
    if not ids:
        raise RosterError(f"{where}: no rows after the header; expected name,student_id rows")
    return Roster(path, ids)


def find_submissions(source, lessons, unpack_to=None, roster=None):
    """Return (submissions sorted by student and lesson, skipped files sorted by path).

    source: a folder (any layout above) or a .zip of one; lessons: the lesson names that can
    be graded, e.g. ["01_loss_and_cost"]; unpack_to: where a zip is extracted (required for a
    zip); roster: None, or a roster CSV file (read first, so a bad one fails before anything
    is unpacked) mapping the names in downloads to student ids.
    """
    roster = read_roster(roster) if roster is not None else None
    source = Path(source)
    if source.is_file() and source.suffix == ".zip":
        if unpack_to is None:
            raise ValueError("unpack_to is required to read a zip of submissions")
        source = _unpack(source, Path(unpack_to))
    if not source.is_dir():
        raise FileNotFoundError(f"No folder or .zip of submissions at {source}")
    candidates, skipped = {}, []  # (student, lesson) -> [(resubmission, relative path)]
    for path in sorted(p for p in source.rglob("*") if p.is_file()):
        relative = path.relative_to(source)
        if DEBRIS & set(relative.parts):
            continue
        identified = _identify(relative, lessons, roster)
        if isinstance(identified, str):
            skipped.append(Skipped(str(relative), identified))
        else:
            student, lesson, attempt = identified
            candidates.setdefault((student, lesson), []).append((attempt, relative))
    found = []
    for (student, lesson), handed_in in sorted(candidates.items()):
        latest = max(attempt for attempt, _ in handed_in)
        graded = next(relative for attempt, relative in handed_in if attempt == latest)
        found.append(Submission(student, lesson, source / graded))
        for attempt, relative in handed_in:
            if relative == graded:
                continue
            if attempt < latest:
                why = (f"an earlier submission of {lesson} by {student!r}; graded the latest "
                       f"resubmission: {graded}")
            else:
                why = (f"a second file for student {student!r} and lesson {lesson!r}; graded: "
                       f"{graded}")
            skipped.append(Skipped(str(relative), why))
    return found, sorted(skipped, key=lambda s: s.path)


def _identify(relative, lessons, roster):
    """(student, lesson, resubmission number) of a notebook, or why it is not graded (a str).
    The layouts and the rules are in the module's docstring."""
    parts = relative.parts
    if relative.suffix != ".ipynb":
        return "not a notebook (.ipynb)"
    moodle = MOODLE.fullmatch(parts[-2]) if len(parts) in (2, 3) else None
    if len(parts) == 3 and parts[1] in lessons:  # nbgrader's <student>/<lesson>/<lesson>.ipynb
        student, lesson = parts[0], parts[1]
        if parts[2] != f"{lesson}.ipynb":
            return f"expected the notebook to be named {lesson}.ipynb"
        problem = id_problem(student)
        return f"student id {student!r} (the folder's name) {problem}" if problem else (
            student, lesson, 0)
    if moodle:
        named = _lessons_in(relative.stem, lessons)
        if len(named) != 1:
            return (f"names more than one lesson: {named}" if named else
                    f"no lesson name in the file name; expected one of {sorted(lessons)}")
        name, lesson, attempt, kind = moodle["name"], named[0], 0, "Moodle participant"
    elif len(parts) in (1, 2):
        flat = _flat(relative.stem, lessons)
        if isinstance(flat, str):
            return flat
        name, lesson, attempt, kind = flat
    elif len(parts) == 3:
        return f"unknown lesson folder {parts[1]!r}; expected one of {sorted(lessons)}"
    else:
        return "too deep: expected <student>/<lesson>/<lesson>.ipynb"
    if roster is not None:
        student = roster.get(name)
        if student is None:
            return f"{kind} {name!r} is not in the roster {roster.path}"
        return student, lesson, attempt
    student = _normalise(name) if moodle else name
    problem = id_problem(student)
    if problem:
        return (f"student id {student!r} (from the {kind} {name!r}) {problem}; a roster "
                "(--roster) can map the name to an id")
    return student, lesson, attempt


def _flat(stem, lessons):
    """(name, lesson, resubmission, kind) of a Canvas or a <student>_<lesson> name, or why not."""
    if len(_lessons_in(stem, lessons)) > 1:
        return f"names more than one lesson: {_lessons_in(stem, lessons)}"
    canvas = CANVAS.fullmatch(stem)
    if canvas:  # only if the file name as handed in names a lesson: else it is a flat name
        handed_in = RESUBMISSION.fullmatch(canvas["file"])
        named = _lessons_in(handed_in["stem"] if handed_in else canvas["file"], lessons)
        if named:
            attempt = int(handed_in["attempt"]) if handed_in else 0
            return canvas["name"], named[0], attempt, "Canvas name"
    resubmitted = RESUBMISSION.fullmatch(stem)
    base = resubmitted["stem"] if resubmitted else stem
    lesson = next((name for name in sorted(lessons, key=len, reverse=True)
                   if base.endswith("_" + name)), None)
    if lesson is None:
        return ("expected <student>_<lesson>.ipynb, a Canvas or a Moodle download, with a "
                f"lesson among {sorted(lessons)}")
    attempt = int(resubmitted["attempt"]) if resubmitted else 0
    return base[: -len(lesson) - 1], lesson, attempt, "name"


def _lessons_in(name, lessons):
    """The lessons whose names are in `name` (not counting one inside a longer one), sorted."""
    named = [lesson for lesson in lessons if lesson in name]
    return sorted(lesson for lesson in named
                  if not any(lesson != other and lesson in other for other in named))


def _normalise(name):
    """A Moodle participant's full name as an id: "Jane  Doe" -> "jane_doe"."""
    name = unicodedata.normalize("NFC", name).lower()
    return re.sub(r"[^\w.-]+|_+", "_", name).strip("_.")


def _key(name):
    """How roster names are compared: case and repeated whitespace do not matter."""
    return " ".join(unicodedata.normalize("NFC", name).casefold().split())


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
