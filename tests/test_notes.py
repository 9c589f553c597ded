"""The seed notes' two networks trained with nnlib, and `nncourse train-seed`."""

import pytest

from nncourse import cli
from nncourse.notes import SEED_NETWORKS, seed_network, train_seed_networks


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


def test_command_prints_the_table_and_writes_the_figure(tmp_path, capsys):
    assert cli.main(["train-seed", "--epochs", "20", "--out", str(tmp_path)]) == 0
    printed = capsys.readouterr()
    lines = printed.out.splitlines()
    epochs = [line.split()[0] for line in lines if line[:5].strip().isdigit()]
    assert epochs == ["1", "10", "20"]
    assert sum("final accuracy" in line for line in lines) == 2
    png = tmp_path / "loss_curves.png"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert printed.err == ""


@pytest.mark.parametrize("epochs", ["0", "-3", "ten"])
def test_command_refuses_epochs_that_are_not_a_positive_integer(epochs, capsys):
    with pytest.raises(SystemExit) as stopped:
        cli.main(["train-seed", "--epochs", epochs])
    assert stopped.value.code == 2
    assert capsys.readouterr().err.splitlines()[-1] == (
        f"nncourse train-seed: error: argument --epochs: must be a positive integer. "
        f"Received: {epochs!r}")
