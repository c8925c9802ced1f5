"""MLP checkpoints: weights, config, optimizer and training state in one ``.npz`` — no pickle, atomic.

Layout (schema ``refimpl-mlp/1``): ``schema``; ``config`` and ``state`` as JSON strings; ``param/<name>``
arrays; ``adam/m/<name>`` and ``adam/v/<name>`` when an optimizer state is kept; ``history`` (losses).
A truncated, corrupted or foreign file raises :class:`refimpl.FileFormatError`; nothing is half-loaded.

Examples
--------
>>> import os, tempfile, numpy as np, refimpl
>>> config = refimpl.mlp.MLPConfig(vocab_size=2, length=2, hidden=(4,), activation="tanh")
>>> model = refimpl.mlp.MLP(config, refimpl.mlp.init_params(config, np.random.default_rng(0)))
>>> path = os.path.join(tempfile.mkdtemp(), "model.npz")
>>> refimpl.checkpoint.save(path, model)
>>> loaded = refimpl.checkpoint.load(path)[0]
>>> bool(np.array_equal(loaded(np.array([[2, 0]])), model(np.array([[2, 0]]))))
True
"""
import io
import json
import os
import zipfile

import numpy as np

from ..core.errors import FileFormatError, InvalidTypeError
from ..core.files import atomic_write_bytes, file_kind
from ..core.types import ArrayLike
from .mlp import MLP, MLPConfig

SCHEMA = "refimpl-mlp/1"


def save(path: str | os.PathLike, model: MLP, opt_state: dict | None = None, train_state: dict | None = None,
         history: ArrayLike = ()) -> None:
    """Write the checkpoint atomically (temporary file, fsync, rename)."""
    arrays = {"schema": np.array(SCHEMA), "config": np.array(json.dumps(model.config.to_dict())),
              "state": np.array(json.dumps(train_state or {})), "history": np.asarray(history, dtype=np.float64)}
    for name, value in model.params.items():
        arrays[f"param/{name}"] = value
    if opt_state is not None:
        arrays["adam/step"] = np.array(opt_state["step"], dtype=np.int64)
        for name in model.params:
            arrays[f"adam/m/{name}"] = opt_state["m"][name]
            arrays[f"adam/v/{name}"] = opt_state["v"][name]
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    atomic_write_bytes(path, buffer.getvalue())


def load(path: str | os.PathLike) -> tuple[MLP, dict | None, dict, np.ndarray]:
    """``(model, opt_state or None, train_state dict, history array)`` from a checkpoint."""
    if not isinstance(path, (str, bytes, os.PathLike)):
        raise InvalidTypeError(f"a checkpoint path must be a file path, got {type(path).__name__}")
    try:
        kind = file_kind(path)
    except FileNotFoundError:
        raise FileFormatError(f"no checkpoint at {path}") from None
    except OSError as error:
        raise FileFormatError(f"cannot read {path}: {error.strerror or error}") from None
    if kind != "npz":
        raise FileFormatError(f"{path} is not a refimpl checkpoint (not a .npz archive; refimpl train --out writes one)")
    try:
        with np.load(path, allow_pickle=False) as data:
            arrays = {key: data[key] for key in data.files}
    except FileNotFoundError:
        raise FileFormatError(f"no checkpoint at {path}") from None
    except (zipfile.BadZipFile, ValueError, OSError, EOFError, KeyError, RuntimeError) as error:
        raise FileFormatError(f"{path} is not a readable refimpl checkpoint (truncated or corrupted?): {error}") from None
    if "schema" not in arrays:
        raise FileFormatError(f"{path} is not a refimpl checkpoint (no schema field)")
    schema = str(arrays["schema"])
    if schema != SCHEMA:
        raise FileFormatError(f"{path} has schema {schema!r}; this refimpl reads {SCHEMA!r}")
    try:
        config = MLPConfig(**json.loads(str(arrays["config"])))
        state = json.loads(str(arrays["state"]))
        params = {key[len("param/"):]: arrays[key] for key in arrays if key.startswith("param/")}
        model = MLP(config, params)
        opt_state = None
        if "adam/step" in arrays:
            opt_state = {"step": int(arrays["adam/step"]),
                         "m": {name: arrays[f"adam/m/{name}"] for name in params},
                         "v": {name: arrays[f"adam/v/{name}"] for name in params}}
        history = np.asarray(arrays.get("history", np.zeros(0)), dtype=np.float64)
    except (KeyError, TypeError, ValueError, json.JSONDecodeError) as error:
        raise FileFormatError(f"{path} is inconsistent (config, parameters or optimizer state): {error}") from None
    return model, opt_state, state, history
