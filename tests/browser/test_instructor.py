"""An instructor's formgrader, in a real browser, on a class graded by `nncourse grade`.

`nncourse formgrader OUT` runs as the README starts it, without an activated environment. The
TA's steps are a TA's: read the students' table, find the flagged submission, type a score for
a written answer; then late work comes in and `nncourse grade` runs again.
"""

import shutil

import jupyter_servers
import pytest
import sample_class
from sample_class import IDS, LESSON, ROOT

from nncourse import cli

WRITTEN = "explain_minus_sign"  # a written answer of lesson 1, 2 points, awaiting a person


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    return sample_class.grade(tmp_path_factory.mktemp("instructor"))


@pytest.fixture(scope="module")
def formgrader(graded, tmp_path_factory):
    with jupyter_servers.formgrader(graded[0], tmp_path_factory.mktemp("home")) as running:
        yield running


def goto(page, port, path):
    """Open formgrader's page `path`, signed in as a TA is: by the link with the token that the
    server printed, which leaves a cookie (a notebook's grading page does not take the token)."""
    if not page.context.cookies():
        page.goto(f"http://127.0.0.1:{port}/formgrader?token={jupyter_servers.TOKEN}")
    page.goto(f"http://127.0.0.1:{port}/formgrader/{path}")


def row(page, text):
    """The row of the page's table that shows `text`, once formgrader has loaded it."""
    found = page.locator("tbody tr", has_text=text)
    found.first.wait_for(timeout=60_000)
    return found


def test_formgrader_lists_the_students_their_scores_and_the_flagged_submission(
        graded, formgrader, page):
    _, results, _ = graded
    port, _ = formgrader
    goto(page, port, "manage_students")
    for student in IDS:
        score = f"{results[student].score:g} / {results[student].max_score:g}"
        assert score in row(page, student).inner_text(), student
    page.shot("students")

    goto(page, port, f"gradebook/{LESSON}/{LESSON}")
    row(page, "Submission #")
    page.get_by_text("Show All Names").click()  # formgrader hides who is who until asked
    for student in IDS:
        flagged = row(page, student).locator(".glyphicon-flag").count() == 1
        assert flagged == bool(results[student].flags), (student, results[student].flags)
    page.shot("flags")


def test_a_score_typed_in_formgrader_survives_the_next_grading(graded, formgrader, page,
                                                              tmp_path):
    out, results, source = graded
    port, _ = formgrader
    jane = next(n for n in jupyter_servers.api(
        port, f"/formgrader/api/submitted_notebooks/{LESSON}/{LESSON}")
        if n["student"] == "jane_doe")
    goto(page, port, f"submissions/{jane['id']}/")
    box = page.locator(f"input#{WRITTEN}")
    box.scroll_into_view_if_needed()
    box.fill("1.5")
    with page.expect_response(lambda r: "/formgrader/api/grade/" in r.url
                              and r.request.method == "PUT"):
        box.press("Tab")  # formgrader saves a score when the box loses focus
    page.shot("typed")
    [grade] = [g for g in jupyter_servers.api(port, f"/formgrader/api/grades?submission_id="
                                                    f"{jane['id']}") if g["name"] == WRITTEN]
    assert grade["manual_score"] == 1.5

    # late work: finn (s_1234567) hands in ada's complete lesson; only that is graded again
    shutil.copy(ROOT / "examples" / "class" / "ada" / LESSON / f"{LESSON}.ipynb",
                source / f"s_1234567_{LESSON}.ipynb")
    assert cli.main(["grade", str(source), "--out", str(out), "--lesson", LESSON,
                     "--jobs", "2"]) == 0

    goto(page, port, f"submissions/{jane['id']}/")
    page.locator(f"input#{WRITTEN}").scroll_into_view_if_needed()
    assert page.locator(f"input#{WRITTEN}").input_value() == "1.5"
    page.shot("kept")
    goto(page, port, "manage_students")
    before = results["jane_doe"]
    assert f"{before.score + 1.5:g} / {before.max_score:g}" in row(page, "jane_doe").inner_text()
    late = row(page, "s_1234567").inner_text()
    assert f"{results['jane_doe'].score:g} / " in late  # ada's lesson, graded for finn
    page.shot("after-grading")
