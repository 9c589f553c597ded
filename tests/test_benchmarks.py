"""The benchmark scripts run, and the three implementations they time compute the same thing."""

import runpy
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parity
def test_training_benchmark_quick_run(tmp_path, capsys):
    # in this process (no second TensorFlow start-up): the script's main(argv), as its
    # `__main__` block calls it
    benchmark = runpy.run_path(str(ROOT / "benchmarks" / "training.py"))
    benchmark["main"](["--quick", "--repeats", "1", "--out", str(tmp_path)])
    printed = capsys.readouterr().out
    rows = [line for line in (tmp_path / "training.md").read_text().splitlines()
            if line.startswith("| ") and line[2].isalpha() and "network" not in line]
    assert len(rows) == 4, printed
    for row in rows:
        cells = [c.strip() for c in row.strip("|").split("|")]
        nnlib_vs_floor, nnlib_vs_keras = float(cells[-2]), float(cells[-1])
        assert nnlib_vs_floor < 1e-12  # the inline floor trains exactly the same network
        assert nnlib_vs_keras < 1e-5   # Keras in float32
    assert (tmp_path / "training.png").stat().st_size > 0


def test_cluster_results_keep_the_hand_written_projection():
    # benchmarks/cluster.py rewrites its measured figures on every `make bench`; the
    # projection below them is written by hand from those figures and must survive
    compose = runpy.run_path(str(ROOT / "benchmarks" / "cluster.py"))["compose"]
    previous = "# Grading\n\nold table\n\n## Projection\n\n5,000 notebooks: by hand\n"
    assert compose("# Grading\n\nnew table\n", previous) == \
        "# Grading\n\nnew table\n\n## Projection\n\n5,000 notebooks: by hand\n"
    assert compose("# Grading\n\nnew table\n", "") == "# Grading\n\nnew table\n"
