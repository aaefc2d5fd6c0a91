"""Optional sentence embeddings for grouping texts into new themes (`[themes] backend = "embeddings"`).

Off by default: the TF-IDF pipeline needs no model and no download. With the `embeddings` extra installed and a
sentence-transformers model on disk, new themes are found from the texts' meaning rather than their words. Matching
items to known themes, labels and section mapping stay on terms, so themes remain explainable and stable when the
backend is switched on later.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from reviewbot.errors import ConfigError

Encoder = Callable[[Sequence[str]], np.ndarray]  # texts -> unit-length rows
INSTALL_HINT = 'install the optional extra: pip install "reviewbot[embeddings]"'
MODEL_HINT = (
    "download a sentence-transformers model once where there is internet, e.g. "
    'python -c "from sentence_transformers import SentenceTransformer as S; '
    "S('sentence-transformers/all-MiniLM-L6-v2').save('models/all-MiniLM-L6-v2')\", "
    'copy the folder here and set [themes] embedding_model = "models/all-MiniLM-L6-v2"'
)


def check_backend(model: str, workspace: Path) -> Path:
    """The model folder, after checking it and the package exist (cheap: loads nothing); ConfigError if not."""
    if not model:
        raise ConfigError(
            "the embeddings backend needs a model folder", field="themes.embedding_model", hint=MODEL_HINT
        )
    path = Path(model).expanduser()
    path = path if path.is_absolute() else workspace / path
    if not path.is_dir():
        raise ConfigError(f"no embedding model at {path}", field="themes.embedding_model", hint=MODEL_HINT)
    if importlib.util.find_spec("sentence_transformers") is None:
        raise ConfigError(
            'backend = "embeddings" needs the sentence-transformers package, which is not installed',
            field="themes.backend",
            hint=INSTALL_HINT,
        )
    return path


def load_encoder(model: str, workspace: Path, batch_size: int = 64) -> Encoder:
    """An encoder for the sentence-transformers model in the folder `model` (relative to the workspace)."""
    path = check_backend(model, workspace)
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
