"""The seed notes' program, run with nnlib: the two 25-15-1 networks on the coffee data.

    nncourse train-seed [--epochs 100] [--out build/seed]

The notes' Keras code, with its missing commas put back, is
    model = Sequential([Dense(units=25, activation="sigmoid"),
                        Dense(units=15, activation="sigmoid"),
                        Dense(units=1, activation="sigmoid")])
    model.compile(loss=BinaryCrossentropy())     # optimizer: Keras's default, RMSprop(0.001)
    model.fit(X, Y, epochs=100)                  # batch_size: Keras's default, 32
and the same with relu in the two hidden layers. This runs both exactly so, prints the cost
every 10 epochs and the final accuracy, and saves the two loss curves as a PNG.
"""

from pathlib import Path

import numpy as np

from nnlib import BinaryCrossentropy, Dense, Sequential, datasets

SEED_NETWORKS = {
    "sigmoid x3": "sigmoid",        # the notes' first network
    "relu, relu, sigmoid": "relu",  # the notes' second: ReLU in the hidden layers
}


def seed_network(hidden_activation, seed=0, dtype="float64"):
    """The notes' 25-15-1 network with the given hidden activation and a sigmoid output."""
    return Sequential([Dense(units=25, activation=hidden_activation),
                       Dense(units=15, activation=hidden_activation),
                       Dense(units=1, activation="sigmoid")], seed=seed, dtype=dtype)


def accuracy(model, X, Y):
    """The fraction of examples a sigmoid-output model classifies right: y_hat > 0.5 against
    the labels Y in {0, 1}, (m, 1)."""
    return float(np.mean((model.predict(X, verbose=0) > 0.5) == (Y == 1)))


def train_seed_networks(epochs=100, m=200, seed=0):
    """Train both seed networks as the notes do; return {name: (model, history)}."""
    X, Y = datasets.coffee_roasting(m=m, seed=seed)
    results = {}
    for name, hidden in SEED_NETWORKS.items():
        model = seed_network(hidden, seed=seed)
        model.compile(loss=BinaryCrossentropy())
        history = model.fit(X, Y, epochs=epochs, verbose=0, seed=seed)
        results[name] = (model, history)
    return X, Y, results


def main(epochs=100, out=Path("build/seed")):
    """Train both networks, print their cost every 10 epochs and their final accuracy, and
    save their loss curves in out/loss_curves.png; return the figure's path."""
    if epochs < 1:
        raise ValueError(f"epochs must be a positive integer. Received: epochs={epochs!r}")
    X, Y, results = train_seed_networks(epochs=epochs)
    print(f"Coffee-roasting data: m = {len(X)} examples, 2 features, "
          f"{int(Y.sum())} good roasts. Loss: BinaryCrossentropy, optimizer: RMSprop(0.001), "
          f"batch_size 32.\n")
    names = list(results)
    print(f"{'epoch':>5}  " + "  ".join(f"{name:>20}" for name in names))
    for epoch in [1, *range(10, epochs + 1, 10)]:
        costs = [results[name][1].history["loss"][epoch - 1] for name in names]
        print(f"{epoch:>5}  " + "  ".join(f"{c:>20.4f}" for c in costs))
    print()
    for name, (model, _) in results.items():
        print(f"final accuracy, {name:<20} {accuracy(model, X, Y):.1%}")

    from nnlib.plotting import plot_loss_curves

    figure = plot_loss_curves([history for _, history in results.values()], labels=names)
    figure.axes[0].set_title(f"The seed's networks on the coffee data ({epochs} epochs)")
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    path = out / "loss_curves.png"
    figure.savefig(path, dpi=100)
    print(f"\nLoss curves written to {path}")
    return path
