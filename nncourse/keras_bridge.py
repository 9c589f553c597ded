"""The bridge between nnlib and Keras: the same network in both frameworks, same weights.

    from nncourse.keras_bridge import to_keras, from_keras
    keras_model = to_keras(model)        # nnlib Sequential -> keras.Sequential, weights copied
    model = from_keras(keras_model)      # and back

Supported: stacks of Dense layers (with a bias) whose activations are in nnlib's registry
(`nnlib.activations.ACTIVATIONS`). If the nnlib model is compiled, its Keras twin is compiled
with the same loss and a fresh optimizer of the same class and hyperparameters (and vice
versa), so that both can `fit` side by side. Optimizer *state* (step count, moments) is not
copied: the twin starts from step 0.

nnlib itself never imports TensorFlow; this module is the one place that does, on first use
(`keras_module`, `tensorflow_module`). Before the import it sets TF_ENABLE_ONEDNN_OPTS=0
(oneDNN changes the order of float additions, so results are not reproducible to the last
bit) and TF_CPP_MIN_LOG_LEVEL=3 (quiet), unless they are already set.

Keras's `floatx` decides the precision of the loss, the optimizer's learning rate and the
History: training a float64 nnlib model against Keras needs `keras.config.set_floatx("float64")`
during the Keras model's construction and fit. `floatx(dtype)` does that (with the global dtype
policy, which Keras caches separately) and restores both.
"""

import contextlib
import inspect
import os
import sys
import warnings

import numpy as np

import nnlib
from nnlib import activations, losses, optimizers

_keras = None


@contextlib.contextmanager
def _stderr_silenced():
    """Send file descriptor 2 to /dev/null: TensorFlow's C++ start-up messages bypass Python."""
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with open(os.devnull, "w") as devnull:
            os.dup2(devnull.fileno(), 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


def keras_module():
    """Import Keras (with the TensorFlow backend) quietly and deterministically, once."""
    global _keras
    if _keras is None:
        if "tensorflow" in sys.modules and os.environ.get("TF_ENABLE_ONEDNN_OPTS") != "0":
            warnings.warn("TensorFlow was imported before TF_ENABLE_ONEDNN_OPTS=0 was set: "
                          "its float32 results may differ from nnlib's in the last bits.",
                          RuntimeWarning, stacklevel=2)
        os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
        os.environ.setdefault("KERAS_BACKEND", "tensorflow")
        quiet = os.environ["TF_CPP_MIN_LOG_LEVEL"] == "3" and "tensorflow" not in sys.modules
        try:
            with _stderr_silenced() if quiet else contextlib.nullcontext():
                import keras
                import tensorflow as tf  # the backend, imported here so that it starts quietly
        except ImportError as error:
            raise ImportError(f"The Keras bridge needs tensorflow and keras ({error}). Install "
                              "the pinned versions: pip install -r requirements.txt") from error
        if os.environ["TF_CPP_MIN_LOG_LEVEL"] == "3":
            tf.get_logger().setLevel("ERROR")  # Python-side warnings, e.g. about retracing
        if keras.backend.backend() != "tensorflow":
            raise RuntimeError(
                "The parity check needs Keras's TensorFlow backend. "
                f"Received: KERAS_BACKEND={keras.backend.backend()!r}"
            )
        _keras = keras
    return _keras


def tensorflow_module():
    """TensorFlow, imported quietly and deterministically by `keras_module` (its backend)."""
    keras_module()
    import tensorflow as tf

    return tf


@contextlib.contextmanager
def floatx(dtype):
    """Inside the block, Keras's global float type is `dtype` ("float32" or "float64").

    Sets `keras.config.set_floatx` and also the global dtype policy: Keras caches that policy
    from floatx the first time it needs one and does not update it when floatx changes, so
    without this, layers created later would keep the first floatx. Both are restored after.
    """
    keras = keras_module()
    previous = keras.config.floatx(), keras.config.dtype_policy()
    keras.config.set_floatx(np.dtype(dtype).name)
    keras.config.set_dtype_policy(np.dtype(dtype).name)
    try:
        yield
    finally:
        keras.config.set_floatx(previous[0])
        keras.config.set_dtype_policy(previous[1])


# ------------------------------------------------------------------ losses and optimizers


def keras_loss(loss, dtype=None, reduction="sum_over_batch_size"):
    """The Keras loss object equivalent to an nnlib Loss (or loss name).

    reduction=None gives Keras's per-example loss, like nnlib's `Loss.per_example`.
    """
    keras = keras_module()
    loss = losses.get(loss)
    if isinstance(loss, losses.BinaryCrossentropy):
        return keras.losses.BinaryCrossentropy(from_logits=loss.from_logits, dtype=dtype,
                                               reduction=reduction)
    if isinstance(loss, losses.MeanSquaredError):
        return keras.losses.MeanSquaredError(dtype=dtype, reduction=reduction)
    raise ValueError(f"No Keras equivalent for the loss {loss!r}.")


def _hyperparameter_names(optimizer_class):
    """The arguments of an nnlib optimizer's constructor, e.g. ["learning_rate", "momentum"]
    for SGD: nnlib's optimizers take Keras's argument names and keep each as an attribute."""
    return list(inspect.signature(optimizer_class).parameters)


def keras_optimizer(optimizer):
    """A fresh Keras optimizer of the same class and hyperparameters as an nnlib Optimizer
    (None: compile()'s default, RMSprop). nnlib's registry names ("sgd", "rmsprop", "adam")
    are Keras's names for the same optimizers."""
    keras = keras_module()
    optimizer = optimizers.get(optimizer)
    name = next((name for name, cls in optimizers.OPTIMIZERS.items()
                 if isinstance(optimizer, cls)), None)
    if name is None:
        raise ValueError(f"No Keras equivalent for the optimizer {optimizer!r}: expected an "
                         f"instance of one of {sorted(optimizers.OPTIMIZERS)}.")
    config = {key: getattr(optimizer, key) for key in _hyperparameter_names(type(optimizer))}
    return keras.optimizers.get({"class_name": name, "config": config})


def _nnlib_loss(keras_loss_object):
    keras = keras_module()
    if isinstance(keras_loss_object, str):  # compile(loss="mse"): nnlib knows Keras's names
        return losses.get(keras_loss_object)
    if isinstance(keras_loss_object, keras.losses.BinaryCrossentropy):
        config = keras_loss_object.get_config()
        if config.get("label_smoothing") or config.get("axis", -1) != -1:
            raise ValueError(f"nnlib's BinaryCrossentropy has no label_smoothing or axis. "
                             f"Received: {config}")
        return nnlib.BinaryCrossentropy(from_logits=config["from_logits"])
    if isinstance(keras_loss_object, keras.losses.MeanSquaredError):
        return nnlib.MeanSquaredError()
    raise ValueError(
        "from_keras translates BinaryCrossentropy and MeanSquaredError loss objects. "
        f"Received: loss={keras_loss_object!r}"
    )


def _nnlib_optimizer(keras_optimizer_object):
    name = type(keras_optimizer_object).__name__.lower()  # exact class: AdamW is no Adam
    config = keras_optimizer_object.get_config()
    unsupported = {key: config[key] for key in
                   ("weight_decay", "clipnorm", "clipvalue", "global_clipnorm",
                    "use_ema", "gradient_accumulation_steps", "nesterov", "centered", "amsgrad")
                   if config.get(key)}
    if name == "rmsprop" and config.get("momentum"):
        unsupported["momentum"] = config["momentum"]
    if name not in optimizers.OPTIMIZERS or unsupported \
            or not isinstance(config["learning_rate"], int | float):
        raise ValueError(
            f"from_keras translates the plain optimizers {sorted(optimizers.OPTIMIZERS)} with "
            "a constant learning rate. Received: "
            f"{type(keras_optimizer_object).__name__} with {unsupported or config}"
        )
    cls = optimizers.OPTIMIZERS[name]
    kwargs = {key: config[key] for key in _hyperparameter_names(cls)}
    if keras_optimizer_object.learning_rate.dtype == "float32":  # 0.003 -> 0.0030000000261
        kwargs["learning_rate"] = float(str(np.float32(kwargs["learning_rate"])))  # -> 0.003
    return cls(**kwargs)


# ------------------------------------------------------------------ models


def to_keras(model, compile=True):
    """The keras.Sequential equivalent to an nnlib Sequential, with identical weights.

    The model must be built (give it `Input(shape=(n_features,))`, call `build`, or fit it).
    Its layers get the nnlib model's dtype. With compile=True and a compiled nnlib model, the
    Keras model is compiled with the same loss and a fresh optimizer of the same
    hyperparameters; then Keras's floatx must equal the model's dtype (see `floatx`), because
    Keras computes the loss, the learning rate and the History in floatx.
    """
    keras = keras_module()
    if not isinstance(model, nnlib.Sequential):
        raise TypeError(f"to_keras takes an nnlib Sequential. Received: {model!r}")
    if not model.built:
        raise ValueError(
            "to_keras needs a built model, so that there are weights to copy: start it with "
            "Input(shape=(n_features,)) or call model.build((None, n_features)) first."
        )
    dtype = model.dtype.name
    keras_layers = [keras.Input(shape=(model.n_features,), dtype=dtype)]
    for layer in model.layers:
        keras_layers.append(keras.layers.Dense(layer.units, activation=layer.activation,
                                               name=layer.name, dtype=dtype))
    keras_model = keras.Sequential(keras_layers, name=model.name)
    keras_model.set_weights(model.get_weights())
    if compile and model.loss is not None:
        if keras.config.floatx() != dtype:
            raise ValueError(
                f"The model is {dtype} but Keras's floatx is {keras.config.floatx()}: Keras "
                "would compute the loss and the learning rate in floatx. Build and train the "
                "Keras model inside `with floatx(model.dtype):`, or pass compile=False."
            )
        keras_model.compile(optimizer=keras_optimizer(model.optimizer),
                            loss=keras_loss(model.loss, dtype=dtype))
    return keras_model


def from_keras(keras_model, seed=None):
    """The nnlib Sequential equivalent to a built keras.Sequential of Dense layers.

    Copies the architecture, the dtype and the weights; if the Keras model is compiled with
    a supported loss and optimizer, the nnlib model is compiled with their equivalents.
    """
    keras = keras_module()
    if not isinstance(keras_model, keras.Sequential):
        raise TypeError(f"from_keras takes a keras.Sequential. Received: {keras_model!r}")
    if not keras_model.built:
        raise ValueError(
            "from_keras needs a built Keras model, so that there are weights to copy: start it "
            "with keras.Input(shape=(n_features,))."
        )
    layers, dtypes = [], set()
    for layer in keras_model.layers:
        if type(layer) is not keras.layers.Dense:
            raise ValueError(
                f"from_keras translates Dense layers only. Received: layer {layer.name!r} of "
                f"type {type(layer).__name__}"
            )
        activation = keras.activations.serialize(layer.activation)
        if activation not in activations.ACTIVATIONS:
            raise ValueError(
                f"from_keras translates nnlib's activations {sorted(activations.ACTIVATIONS)}. "
                "Received: "
                f"activation={activation!r} in layer {layer.name!r}"
            )
        if not layer.use_bias:
            raise ValueError(f"nnlib's Dense always has a bias. Received: use_bias=False in "
                             f"layer {layer.name!r}")
        if layer.compute_dtype != layer.kernel.dtype:
            raise ValueError(f"nnlib computes in the weights' dtype. Received: dtype policy "
                             f"{layer.dtype_policy.name!r} in layer {layer.name!r}")
        dtypes.add(layer.kernel.dtype)
        layers.append(nnlib.Dense(layer.units, activation=activation, name=layer.name))
    if len(dtypes) != 1:
        raise ValueError("from_keras needs at least one Dense layer, all of one dtype. "
                         f"Received: dtypes {sorted(dtypes)}")
    weights = keras_model.get_weights()
    model = nnlib.Sequential([nnlib.Input((weights[0].shape[0],)), *layers], seed=seed,
                             dtype=dtypes.pop(), name=keras_model.name)
    model.set_weights(weights)
    if keras_model.compiled and keras_model.loss is not None:
        model.compile(optimizer=_nnlib_optimizer(keras_model.optimizer),
                      loss=_nnlib_loss(keras_model.loss))
    return model
