"""`nncourse formgrader OUT`: nbgrader's formgrader, served on a class graded by `nncourse grade`.

The server is the real JupyterLab with nbgrader's extensions, started by the real command with
the virtual environment *not* activated (PATH without its bin folder), as the README starts it.
"""

import jupyter_servers
import pytest
import sample_class
from sample_class import EXPECTED, IDS, LESSON

from nncourse import cli


@pytest.fixture(scope="module")
def graded_class(tmp_path_factory):
    return sample_class.grade(tmp_path_factory.mktemp("formgrader"))


def test_student_ids_with_underscores_are_graded(graded_class):
    _, results, _ = graded_class
    assert set(results) == set(IDS)
    for student, sample in IDS.items():
        got = {grade_id: score for grade_id, (score, _) in results[student].scores.items()}
        assert got == EXPECTED[sample][LESSON]


def _get(port, path, put=None):
    return jupyter_servers.api(port, path, put=put)


def _submitted_notebooks(port):
    """{student: formgrader's record of their submitted notebook of LESSON}."""
    return {n["student"]: n for n in
            _get(port, f"/formgrader/api/submitted_notebooks/{LESSON}/{LESSON}")}


@pytest.fixture(scope="module")
def server(graded_class, tmp_path_factory):
    with jupyter_servers.formgrader(graded_class[0], tmp_path_factory.mktemp("home")) as running:
        yield running


pytestmark = pytest.mark.grading


def test_formgrader_lists_the_graded_submissions_with_their_scores(graded_class, server):
    _, results, _ = graded_class
    port, _ = server
    assignment = next(a for a in _get(port, "/formgrader/api/assignments")
                      if a["name"] == LESSON)
    assert assignment["num_submissions"] == 2  # counted from the course's submitted/ folder
    submissions = {s["student"]: s for s in _get(port, f"/formgrader/api/submissions/{LESSON}")}
    assert set(submissions) == set(results) == set(IDS)
    for student, result in results.items():
        assert submissions[student]["autograded"] is True
        assert submissions[student]["score"] == pytest.approx(result.score)
        assert submissions[student]["max_score"] == pytest.approx(result.max_score)
    assert results["jane_doe"].score > results["s_1234567"].score  # different: not a default


def test_formgrader_has_an_exchange_and_finds_its_configuration(server):
    port, output = server
    courses = _get(port, "/courses")  # nbgrader's course list: fails without an exchange
    assert courses["success"] is True, courses
    text = output()
    for problem in ("exchange directory does not exist", "Unwritable directory",
                    "No nbgrader_config.py file found", "Traceback"):
        assert problem not in text, text


def test_formgrader_refuses_a_folder_that_was_not_graded(tmp_path, capsys):
    assert cli.main(["formgrader", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("nncourse formgrader: error: ") and err.count("\n") == 1
    assert "not a class graded by `nncourse grade`" in err


def test_flags_are_shown_to_the_reviewer_in_formgrader(server):
    from nncourse import check
    from nncourse.grading.report import FLAGS

    port, _ = server
    notebooks = _submitted_notebooks(port)
    assert notebooks["s_1234567"]["flagged"] is True  # finn's answer calls nnlib
    assert notebooks["jane_doe"]["flagged"] is False
    comments = _get(port, f"/formgrader/api/comments?submission_id={notebooks['s_1234567']['id']}")
    assert any(FLAGS[check.CalledNnlib.__name__] in (c["auto_comment"] or "")
               for c in comments), comments


def test_a_score_given_in_formgrader_survives_the_next_grading(graded_class, server):
    out, results, source = graded_class
    port, _ = server
    ada = _submitted_notebooks(port)["jane_doe"]
    grade = next(g for g in _get(port, f"/formgrader/api/grades?submission_id={ada['id']}")
                 if g["max_score"] > 1)
    # what formgrader's page sends when a TA types a score into the cell's box
    assert _get(port, f"/formgrader/api/grade/{grade['id']}", put={"manual_score": 1.0,
                                                                      "extra_credit": 0.5})
    assert cli.main(["grade", str(source), "--out", str(out), "--lesson", LESSON,
                     "--jobs", "2", "--regrade"]) == 0
    after = _get(port, f"/formgrader/api/grade/{grade['id']}")
    assert (after["manual_score"], after["extra_credit"]) == (1.0, 0.5)
    assert after["auto_score"] == grade["auto_score"]  # graded again, to the same score
    submission = {s["student"]: s for s in _get(port, f"/formgrader/api/submissions/{LESSON}")}
    assert submission["jane_doe"]["score"] == pytest.approx(
        results["jane_doe"].score - grade["auto_score"] + 1.0 + 0.5)
