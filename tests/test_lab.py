"""`nncourse lab`: the command a learner starts JupyterLab with (the browser tests drive it)."""

from nncourse import cli
from nncourse.course import RELEASE


def test_lab_opens_the_lessons_by_default():
    args = cli.build_parser().parse_args(["lab"])
    assert args.folder == RELEASE and RELEASE.name == "lessons"


def test_lab_refuses_a_folder_that_does_not_exist(tmp_path, capsys):
    assert cli.main(["lab", str(tmp_path / "lesons")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("nncourse lab: error: ") and err.count("\n") == 1
    assert "lesons is not a folder" in err
