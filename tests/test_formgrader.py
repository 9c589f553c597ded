"""`nncourse formgrader OUT`: nbgrader's formgrader, served on a class graded by `nncourse grade`.

The server is the real JupyterLab with nbgrader's extensions, started by the real command with
the virtual environment *not* activated (PATH without its bin folder), as the README starts it.
"""

import contextlib
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from nncourse import cli

ROOT = Path(__file__).resolve().parents[1]
LESSON = "01_loss_and_cost"
TOKEN = "formgrader-test-token"


# ids as a university has them (with "_", refused before): ada's notebook in nbgrader's layout,
# finn's as a flat file, from the sample class, whose grades are known without grading
IDS = {"jane_doe": "ada", "s_1234567": "finn"}
EXPECTED = json.loads((ROOT / "examples" / "expected_grades.json").read_text())


@pytest.fixture(scope="module")
def graded_class(tmp_path_factory):
    """The class of IDS graded in OUT; returns (OUT, {id: Result}, SUBMISSIONS)."""
    from nncourse.grading import grade_class

    tmp = tmp_path_factory.mktemp("formgrader")
    source = tmp / "class"
    shutil.copytree(ROOT / "examples" / "class" / "ada" / LESSON, source / "jane_doe" / LESSON)
    shutil.copy(ROOT / "examples" / "class" / f"finn_{LESSON}.ipynb",
                source / f"s_1234567_{LESSON}.ipynb")
    grading = grade_class(source, tmp / "out", lessons=[LESSON], jobs=2,
                          progress=lambda _: None)
    assert grading.skipped == []
    return tmp / "out", {r.student: r for r in grading.results}, source


def test_student_ids_with_underscores_are_graded(graded_class):
    _, results, _ = graded_class
    assert set(results) == set(IDS)
    for student, sample in IDS.items():
        got = {grade_id: score for grade_id, (score, _) in results[student].scores.items()}
        assert got == EXPECTED[sample][LESSON]


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(port, path, put=None):
    """formgrader's JSON answer to GET path, or to PUT path with the JSON body `put`."""
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}{path}", method="GET" if put is None else "PUT",
        data=None if put is None else json.dumps(put).encode(),
        headers={"Authorization": f"token {TOKEN}", "Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())


def _submitted_notebooks(port):
    """{student: formgrader's record of their submitted notebook of LESSON}."""
    return {n["student"]: n for n in
            _get(port, f"/formgrader/api/submitted_notebooks/{LESSON}/{LESSON}")}


@contextlib.contextmanager
def formgrader(out):
    """`nncourse formgrader OUT` running; yields (port, its output so far: a callable).

    Started by the command installed in the virtual environment with the environment's bin
    folder *not* on PATH, as `.venv/bin/nncourse` runs for an instructor who did not activate it.
    """
    port = _free_port()
    command = [str(Path(sys.executable).parent / "nncourse"), "formgrader", str(out),
               "--port", str(port), "--no-browser"]
    environment = {"PATH": "/usr/bin:/bin", "HOME": os.environ.get("HOME", "/tmp"),
                   "JUPYTER_TOKEN": TOKEN,
                   **{k: v for k, v in os.environ.items() if k == "PYTHONPATH"}}
    log = out.parent / f"formgrader-{port}.log"
    with open(log, "w") as sink:
        process = subprocess.Popen(command, env=environment, stdout=sink,
                                   stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                assert _get(port, "/formgrader/api/status") == {"status": True}
                break
            except (urllib.error.URLError, ConnectionError):
                if process.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError(f"no formgrader:\n{log.read_text()}") from None
                time.sleep(0.5)
        yield port, log.read_text
    finally:
        process.terminate()
        process.wait(timeout=30)


@pytest.fixture(scope="module")
def server(graded_class):
    with formgrader(graded_class[0]) as running:
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
