"""nbgrader's formgrader on a graded class: `nncourse formgrader OUT`.

Formgrader is where a TA reviews flagged notebooks and grades answers by hand; what it writes
goes into the class gradebook, which `nncourse grade` keeps on its next run. It runs inside a
JupyterLab server (nbgrader's server extension), so this module only builds that server's
command line and configuration from the same nbgrader configuration the grader uses (the
course folder OUT/course, the gradebook `nncourse grade` recorded OUT's grades in, the course
id), with nbgrader's exchange in OUT/exchange, created here (the Assignment List and the
course list otherwise report the missing /usr/local/share/nbgrader/exchange).

JupyterLab is started as `nncourse.lab` starts it: from this Python's environment by its path,
nothing activated (formgrader would otherwise not find nbgrader's `alembic` command and hang at
"Loading, please wait").
"""

from pathlib import Path

from nncourse import lab
from nncourse.grading import state


def course_folder(out):
    """OUT/course of a folder made by `nncourse grade`; ValueError (one line) otherwise."""
    out = Path(out).resolve()
    if not (out / state.MARKER).exists() or not (out / "course").is_dir():
        raise ValueError(f"{out} is not a class graded by `nncourse grade` (expected the folder "
                         "given to `nncourse grade --out`)")
    return out / "course"


def server_command(out, ip="127.0.0.1", port=8888, open_browser=True):
    """The lab.Server (command, environment, folder) of JupyterLab serving formgrader for OUT.

    The server's root and working folder is OUT/course (formgrader needs the course inside the
    root). nbgrader's configuration of that course, the grader's own
    (nncourse.grading.nbgrader.config) with the gradebook OUT's grades are in, plus the
    exchange folder, is written to OUT/course/nbgrader_config.py: formgrader and nbgrader's
    other extensions read it there, and so do nbgrader's commands typed in that folder.
    """
    from nncourse.grading import nbgrader

    course = course_folder(out)
    db_url = state.gradebook(course.parent)  # the one `nncourse grade` recorded grades in
    if db_url is None:
        raise ValueError(f"{course.parent} has no graded submissions yet")
    settings = nbgrader.config(course, db_url)
    settings.Exchange.root = str(course.parent / "exchange")
    Path(settings.Exchange.root).mkdir(exist_ok=True)
    (course / "nbgrader_config.py").write_text(
        "# Written by `nncourse formgrader`: the course as `nncourse grade` made it.\n"
        "c = get_config()  # noqa: F821\n"
        + "".join(f"c.{section}.{name} = {value!r}\n"
                  for section, traits in settings.items() for name, value in traits.items()))
    return lab.server(course, ip=ip, port=port, open_browser=open_browser, learner=False)
