"""Finding a class's submissions: student ids as instructors have them (nbgrader's layout, flat
files, Canvas and Moodle downloads, a roster), and a reason for every file that is not graded.

The unit tests only name files (their content is never read); the one test marked `grading`
grades Canvas and Moodle downloads of the sample class on the real nbgrader.
"""

import json
import shutil
import zipfile

import pytest

from nncourse.course import RELEASE, ROOT, lessons, notebook_path
from nncourse.grading.submissions import RosterError, find_submissions, id_problem, read_roster

LESSON = "01_loss_and_cost"
LESSONS = lessons()


def hand_in(folder, *names):
    """Create an (empty) file at each relative path under folder; return the folder."""
    for name in names:
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("{}")
    return folder


def find(folder, roster=None):
    """({(student, lesson): path handed in}, {path: reason}) for the files under folder."""
    found, skipped = find_submissions(folder, LESSONS, roster=roster)
    return ({(s.student, s.lesson): str(s.path.relative_to(folder)) for s in found},
            {s.path: s.reason for s in skipped})


def roster_file(tmp_path, text):
    path = tmp_path / "roster.csv"
    path.write_text(text)
    return path


# ------------------------------------------------------------------ nbgrader's layout and ids


def test_nbgrader_layout_takes_the_ids_instructors_have(tmp_path):
    ids = ["jane_doe", "s_1234567", "j.doe-2", "2024x", "Jane Doe", "o'neil", "x" * 128]
    found, skipped = find(hand_in(tmp_path, *(f"{i}/{LESSON}/{LESSON}.ipynb" for i in ids)))
    assert set(found) == {(i, LESSON) for i in ids}
    assert skipped == {}


@pytest.mark.parametrize("student, problem", [
    (".jane", "starts with '.' (a hidden or special folder name)"),
    ("jane ", "has whitespace at an end"),
    (" jane", "has whitespace at an end"),
    ("doe, jane", "contains ','"),
    ("jane*", "contains '*'"),
    ("jane[1]", "contains '[', ']'"),
    ("jane?", "contains '?'"),
    ('say"hi', "contains '\"'"),
    ("back\\slash", "contains '\\\\'"),
    ("tab\there", "contains '\\t'"),
    ("x" * 129, "is longer than 128 characters"),
])
def test_ids_that_are_not_safe_folder_names_or_keys_are_refused(tmp_path, student, problem):
    relative = f"{student}/{LESSON}/{LESSON}.ipynb"
    found, skipped = find(hand_in(tmp_path, relative))
    assert found == {}
    assert skipped[relative].startswith(f"student id {student!r} (the folder's name) {problem}")


@pytest.mark.parametrize("student, problem", [
    ("", "is empty"), (".", "starts with '.'"), ("..", "starts with '.'"),
    ("a/b", "contains '/'"), ("a\0b", "contains '\\x00'"), ("a\nb", "contains '\\n'")])
def test_ids_no_file_can_be_named_are_refused_too(student, problem):
    """These reach the gradebook only through a roster, which is checked with id_problem."""
    assert id_problem(student).startswith(problem)


def test_notebook_and_lesson_folder_names_in_nbgrader_layout(tmp_path):
    _, skipped = find(hand_in(tmp_path, f"ada/{LESSON}/my_work.ipynb",
                              "ada/99_unknown/99_unknown.ipynb", f"ada/x/{LESSON}/y/z.ipynb"))
    assert skipped == {
        f"ada/{LESSON}/my_work.ipynb": f"expected the notebook to be named {LESSON}.ipynb",
        "ada/99_unknown/99_unknown.ipynb": ("unknown lesson folder '99_unknown'; expected one "
                                            f"of {LESSONS}"),
        f"ada/x/{LESSON}/y/z.ipynb": "too deep: expected <student>/<lesson>/<lesson>.ipynb"}


# ------------------------------------------------------------------ flat files and downloads


def test_flat_files_the_lesson_at_the_end_the_rest_is_the_id(tmp_path):
    found, skipped = find(hand_in(
        tmp_path, f"jane_doe_{LESSON}.ipynb", f"s_1234567_{LESSON}.ipynb",
        "export/ada_03_activation_functions.ipynb", f"jo_{LESSON}-2.ipynb", f"jo_{LESSON}.ipynb"))
    assert found == {
        ("jane_doe", LESSON): f"jane_doe_{LESSON}.ipynb",
        ("s_1234567", LESSON): f"s_1234567_{LESSON}.ipynb",
        ("ada", "03_activation_functions"): "export/ada_03_activation_functions.ipynb",
        ("jo", LESSON): f"jo_{LESSON}-2.ipynb"}
    assert skipped == {f"jo_{LESSON}.ipynb": (
        f"an earlier submission of {LESSON} by 'jo'; graded the latest resubmission: "
        f"jo_{LESSON}-2.ipynb")}


def test_flat_files_that_are_not_understood_say_why(tmp_path):
    _, skipped = find(hand_in(
        tmp_path, f"{LESSON}.ipynb", f"_{LESSON}.ipynb", f"doe, jane_{LESSON}.ipynb",
        f"ada_{LESSON}_03_activation_functions.ipynb", "zoe_99_unknown.ipynb", "notes.txt"))
    expected_name = ("expected <student>_<lesson>.ipynb, a Canvas or a Moodle download, with a "
                     f"lesson among {LESSONS}")
    roster_hint = "; a roster (--roster) can map the name to an id"
    assert skipped == {
        f"{LESSON}.ipynb": expected_name,
        "zoe_99_unknown.ipynb": expected_name,
        f"_{LESSON}.ipynb": f"student id '' (from the name '') is empty{roster_hint}",
        f"doe, jane_{LESSON}.ipynb": (
            "student id 'doe, jane' (from the name 'doe, jane') contains ','; an id may not "
            f"contain / \\ , \" * ? [ ] or unprintable characters{roster_hint}"),
        f"ada_{LESSON}_03_activation_functions.ipynb": (
            f"names more than one lesson: ['{LESSON}', '03_activation_functions']"),
        "notes.txt": "not a notebook (.ipynb)"}


def test_canvas_names_late_markers_and_the_latest_resubmission(tmp_path):
    found, skipped = find(hand_in(
        tmp_path,
        f"doejane_123456_7891011_{LESSON}.ipynb",
        f"doejane_123456_7891012_{LESSON}-1.ipynb",
        f"doejane_123456_7891013_{LESSON}-2.ipynb",
        f"smithj_LATE_234567_8910111_{LESSON}.ipynb",
        "leeann_LATE_345678_9101112_my_03_activation_functions_final-1.ipynb",
        f"doe_jo_456789_1011121_{LESSON}.ipynb",
        "kim_567890_1112131_notes.ipynb"))
    assert found == {
        ("doejane", LESSON): f"doejane_123456_7891013_{LESSON}-2.ipynb",
        ("smithj", LESSON): f"smithj_LATE_234567_8910111_{LESSON}.ipynb",
        ("leeann", "03_activation_functions"):
            "leeann_LATE_345678_9101112_my_03_activation_functions_final-1.ipynb",
        ("doe_jo", LESSON): f"doe_jo_456789_1011121_{LESSON}.ipynb"}
    latest = f"graded the latest resubmission: doejane_123456_7891013_{LESSON}-2.ipynb"
    assert skipped == {
        f"doejane_123456_7891011_{LESSON}.ipynb":
            f"an earlier submission of {LESSON} by 'doejane'; {latest}",
        f"doejane_123456_7891012_{LESSON}-1.ipynb":
            f"an earlier submission of {LESSON} by 'doejane'; {latest}",
        "kim_567890_1112131_notes.ipynb": ("expected <student>_<lesson>.ipynb, a Canvas or a "
                                           f"Moodle download, with a lesson among {LESSONS}")}


def test_moodle_folders_give_the_participant_name_normalised(tmp_path):
    folder = "Jane Doe_123456_assignsubmission_file_"
    found, skipped = find(hand_in(
        tmp_path,
        f"{folder}/{LESSON}.ipynb",
        "Anne-Marie  O'Neil_234567_assignsubmission_file_/mine_03_activation_functions.ipynb",
        "José Núñez_345678_assignsubmission_file_/" + f"{LESSON}.ipynb",
        f"download/Bo Li_456789_assignsubmission_file_/{LESSON} (1).ipynb",
        "Jane Doe_123456_assignsubmission_onlinetext_/onlinetext.html",
        "Ola Berg_567890_assignsubmission_file_/homework.ipynb"))
    assert found == {
        ("jane_doe", LESSON): f"{folder}/{LESSON}.ipynb",
        ("anne-marie_o_neil", "03_activation_functions"):
            "Anne-Marie  O'Neil_234567_assignsubmission_file_/mine_03_activation_functions.ipynb",
        ("josé_núñez", LESSON): f"José Núñez_345678_assignsubmission_file_/{LESSON}.ipynb",
        ("bo_li", LESSON): f"download/Bo Li_456789_assignsubmission_file_/{LESSON} (1).ipynb"}
    assert skipped == {
        "Jane Doe_123456_assignsubmission_onlinetext_/onlinetext.html": "not a notebook (.ipynb)",
        "Ola Berg_567890_assignsubmission_file_/homework.ipynb":
            f"no lesson name in the file name; expected one of {LESSONS}"}


def test_a_zip_is_read_like_its_folder_and_debris_is_passed_over(tmp_path):
    archive = tmp_path / "canvas.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr(f"doejane_LATE_123456_7891011_{LESSON}.ipynb", "{}")
        zf.writestr(f"Jane Doe_1_assignsubmission_file_/{LESSON}.ipynb", "{}")
        zf.writestr(f"__MACOSX/._doejane_LATE_123456_7891011_{LESSON}.ipynb", "")
        zf.writestr(f"ada/{LESSON}/.ipynb_checkpoints/{LESSON}-checkpoint.ipynb", "{}")
        zf.writestr(".DS_Store", "")
    found, skipped = find_submissions(archive, LESSONS, unpack_to=tmp_path / "x")
    assert [(s.student, s.lesson) for s in found] == [("doejane", LESSON), ("jane_doe", LESSON)]
    assert skipped == []


def test_two_files_without_resubmission_numbers_grade_the_first(tmp_path):
    found, skipped = find(hand_in(tmp_path, f"ada/{LESSON}/{LESSON}.ipynb", f"ada_{LESSON}.ipynb"))
    assert found == {("ada", LESSON): f"ada/{LESSON}/{LESSON}.ipynb"}
    assert skipped == {f"ada_{LESSON}.ipynb": (f"a second file for student 'ada' and lesson "
                                               f"'{LESSON}'; graded: ada/{LESSON}/{LESSON}.ipynb")}


def test_a_folder_of_files_none_understood_lists_every_one(tmp_path):
    names = ["report.pdf", "week1.ipynb", "Jane Doe_1_assignsubmission_file_/draft.ipynb",
             f"a/b/c/{LESSON}.ipynb", ".hidden.ipynb"]
    found, skipped = find(hand_in(tmp_path, *names))
    assert found == {}
    assert sorted(skipped) == sorted(names)
    assert all(skipped.values())


# ------------------------------------------------------------------ rosters


def test_a_roster_maps_download_names_to_student_ids(tmp_path):
    roster = roster_file(tmp_path, "email,Name,Student_ID\n"
                                   "jd@uni.edu,doejane,s_1234567\n"
                                   "jd@uni.edu,JANE   doe,s_1234567\n"
                                   "\n"
                                   "bo@uni.edu,bo,s_7654321\n")
    submissions = hand_in(
        tmp_path / "in",
        f"doejane_LATE_123456_7891011_{LESSON}.ipynb",
        "Jane Doe_123456_assignsubmission_file_/03_activation_functions.ipynb",
        f"bo_{LESSON}.ipynb",
        f"zed_999_888_{LESSON}.ipynb",
        f"Zed Zee_777_assignsubmission_file_/{LESSON}.ipynb",
        f"zed_{LESSON}.ipynb",
        f"ada/{LESSON}/{LESSON}.ipynb")  # nbgrader's layout names ids: not looked up
    found, skipped = find(submissions, roster=roster)
    assert found == {
        ("s_1234567", LESSON): f"doejane_LATE_123456_7891011_{LESSON}.ipynb",
        ("s_1234567", "03_activation_functions"):
            "Jane Doe_123456_assignsubmission_file_/03_activation_functions.ipynb",
        ("s_7654321", LESSON): f"bo_{LESSON}.ipynb",
        ("ada", LESSON): f"ada/{LESSON}/{LESSON}.ipynb"}
    assert skipped == {
        f"zed_999_888_{LESSON}.ipynb": f"Canvas name 'zed' is not in the roster {roster}",
        f"Zed Zee_777_assignsubmission_file_/{LESSON}.ipynb":
            f"Moodle participant 'Zed Zee' is not in the roster {roster}",
        f"zed_{LESSON}.ipynb": f"name 'zed' is not in the roster {roster}"}


@pytest.mark.parametrize("text, where, problem", [
    ("doejane,s_1\n", "line 1",
     "expected a header row with the columns name,student_id; got 'doejane,s_1'"),
    ("\n", "line 1", "expected a header row with the columns name,student_id; got 'an empty line'"),
    ("name,id\njane,s_1\n", "line 1",
     "expected a header row with the columns name,student_id; got 'name,id'"),
    ("name,student_id\njane\n", "line 2",
     "expected 2 columns (name,student_id); got 1: 'jane'"),
    ("name,student_id\njane,s_1\n,s_2\n", "line 3",
     "the name is empty; expected the name in the download, then the student id"),
    ("name,student_id\njane,\n", "line 2", "student id '' is empty"),
    ("name,student_id\njane,.jane\n", "line 2",
     "student id '.jane' starts with '.' (a hidden or special folder name)"),
    ("name,student_id\njane,doe/jane\n", "line 2", "student id 'doe/jane' contains '/'"),
    ("name,student_id\nJane,s_1\nbo,s_2\n jane ,s_3\n", "line 4",
     "the name 'jane' is already on line 2"),
    ("name,student_id\n\n", None, "no rows after the header; expected name,student_id rows"),
])
def test_a_malformed_roster_names_the_file_the_line_and_what_was_expected(
        tmp_path, text, where, problem):
    path = roster_file(tmp_path, text)
    with pytest.raises(RosterError) as error:
        read_roster(path)
    place = f"roster {path}, {where}: " if where else f"roster {path}: "
    assert str(error.value).startswith(place + problem), str(error.value)


def test_an_unreadable_roster_fails_before_submissions_are_looked_at(tmp_path):
    latin1 = tmp_path / "latin1.csv"
    latin1.write_bytes("name,student_id\nJosé,s_1\n".encode("latin-1"))
    with pytest.raises(RosterError, match=f"roster {latin1}, line 2: not UTF-8 text"):
        read_roster(latin1)
    missing = tmp_path / "nope.csv"
    with pytest.raises(RosterError, match=f"roster {missing}: cannot be read"):
        find_submissions(tmp_path / "no submissions here", LESSONS, roster=missing)


def test_a_roster_saved_by_excel_with_a_byte_order_mark(tmp_path):
    path = tmp_path / "excel.csv"
    path.write_bytes("name,student_id\r\ndoejane,s_1\r\n".encode("utf-8-sig"))
    assert read_roster(path).get("DoeJane") == "s_1"


# ------------------------------------------------------------------ the real grader


@pytest.mark.grading
def test_canvas_and_moodle_downloads_get_the_nbgrader_layouts_grades(tmp_path):
    """Canvas (a zip, LATE file, a blank then a -1 resubmission) and Moodle (folders, a roster)
    downloads of the sample class get exactly the sample class's expected grades."""
    from nncourse.grading import grade_class

    sample = ROOT / "examples" / "class"
    expected = {student: lessons[LESSON] for student, lessons in
                json.loads((ROOT / "examples" / "expected_grades.json").read_text()).items()
                if LESSON in lessons}
    blank = notebook_path(RELEASE, LESSON)
    assert sum(expected["dan"].values()) > 0  # so grading the blank instead of dan would show

    canvas = tmp_path / "canvas.zip"
    with zipfile.ZipFile(canvas, "w") as zf:
        zf.write(sample / "ada" / LESSON / f"{LESSON}.ipynb",
                 f"ada_LATE_1001_5001_{LESSON}.ipynb")
        zf.write(blank, f"dan_1004_5004_{LESSON}.ipynb")
        zf.write(sample / "dan" / LESSON / f"{LESSON}.ipynb", f"dan_1004_5104_{LESSON}-1.ipynb")
        zf.write(sample / f"finn_{LESSON}.ipynb", f"finn_1006_5006_{LESSON}.ipynb")
    moodle = tmp_path / "moodle"
    for name, student, file_name in [("Ben Example", "ben", f"{LESSON}.ipynb"),
                                     ("Cleo Example", "cleo", f"cleo {LESSON} final.ipynb")]:
        folder = moodle / f"{name}_{len(name)}42_assignsubmission_file_"
        folder.mkdir(parents=True)
        shutil.copy(sample / student / LESSON / f"{LESSON}.ipynb", folder / file_name)
    roster = roster_file(tmp_path, "name,student_id\nBen Example,ben\nCleo Example,cleo\n")

    graded = {}
    for source, options in [(canvas, {}), (moodle, {"roster": roster})]:
        grading = grade_class(source, tmp_path / f"out_{source.stem}", lessons=[LESSON], jobs=2,
                              progress=lambda _: None, **options)
        for result in grading.results:
            assert result.lesson == LESSON
            graded[result.student] = {cell: score for cell, (score, _) in result.scores.items()}
        if source == canvas:
            assert [(s.path, s.reason) for s in grading.skipped] == [
                (f"dan_1004_5004_{LESSON}.ipynb",
                 f"an earlier submission of {LESSON} by 'dan'; graded the latest "
                 f"resubmission: dan_1004_5104_{LESSON}-1.ipynb")]
        else:
            assert grading.skipped == []
    assert graded == {student: expected[student]
                      for student in ("ada", "ben", "cleo", "dan", "finn")}
