"""The main job (until grading exists): the seed's two networks trained with nnlib."""

import subprocess
import sys

from nncourse.seed import SEED_NETWORKS, seed_network, train_seed_networks


def test_seed_network_is_25_15_1():
    model = seed_network("relu")
    model.build((None, 2))
    assert [layer.units for layer in model.layers] == [25, 15, 1]
    assert [layer.activation for layer in model.layers] == ["relu", "relu", "sigmoid"]


def test_both_networks_lower_the_cost_and_relu_learns_faster():
    _, _, results = train_seed_networks(epochs=30)
    assert set(results) == set(SEED_NETWORKS)
    final = {name: history.history["loss"][-1] for name, (_, history) in results.items()}
    for _, history in results.values():
        assert history.history["loss"][-1] < history.history["loss"][0]
    assert final["relu, relu, sigmoid"] < final["sigmoid x3"]


def test_command_prints_the_table_and_writes_the_figure(tmp_path):
    run = subprocess.run([sys.executable, "-m", "nncourse.seed", "--epochs", "20",
                          "--out", str(tmp_path)], capture_output=True, text=True, check=True,
                         env={"MPLBACKEND": "Agg", "PATH": ""})
    lines = run.stdout.splitlines()
    epochs = [line.split()[0] for line in lines if line[:5].strip().isdigit()]
    assert epochs == ["1", "10", "20"]
    assert sum("final accuracy" in line for line in lines) == 2
    png = tmp_path / "loss_curves.png"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert run.stderr == ""
