"""Feedback reports and the grade export, from the class gradebook in OUT/course.

`HideHiddenTests` is nbgrader's ClearHiddenTests for feedback: it removes the hidden tests'
source from each test cell and cuts the traceback of their failures down to the error line
("AssertionError: binary_crossentropy(y, f) is not right: ..."), because a traceback quotes
the lines of the test that failed. A student sees what failed and why, not the test itself.
"""


from nbgrader.preprocessors import ClearHiddenTests

from nncourse.grading import _nbgrader


class HideHiddenTests(ClearHiddenTests):
    enforce_metadata = False  # the autograded notebook is already checked

    def preprocess_cell(self, cell, resources, cell_index):
        had_hidden = self._remove_hidden_test_region(cell)
        if had_hidden:
            for output in cell.get("outputs", []):
                if output.get("output_type") == "error":
                    output["traceback"] = [f"{output['ename']}: {output['evalue']}"]
        return cell, resources


FEEDBACK_CONFIG = """
from nbconvert.preprocessors import CSSHTMLHeaderPreprocessor
from nbgrader.preprocessors import GetGrades
from nncourse.feedback import HideHiddenTests
c.GenerateFeedback.preprocessors = [GetGrades, HideHiddenTests, CSSHTMLHeaderPreprocessor]
"""


def generate_feedback(course, lessons):
    """One HTML report per student and lesson in OUT/course/feedback/<student>/<lesson>/."""
    config = course / "nbgrader_config.py"
    if FEEDBACK_CONFIG not in config.read_text():
        config.write_text(config.read_text() + FEEDBACK_CONFIG)
    for lesson in lessons:
        done = _nbgrader(["generate_feedback", lesson, "--force"], course)
        if done.returncode != 0:
            raise RuntimeError(f"nbgrader generate_feedback {lesson} failed:\n"
                               f"{done.stderr[-2000:]}")
    return sorted((course / "feedback").glob("*/*/*.html"))


def export_grades(course, path):
    """nbgrader's CSV export of the class gradebook (one row per student and lesson)."""
    done = _nbgrader(["export", "--to", str(path)], course)
    if done.returncode != 0:
        raise RuntimeError(f"nbgrader export failed:\n{done.stderr[-2000:]}")
    return path


