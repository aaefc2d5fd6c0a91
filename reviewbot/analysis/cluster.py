"""Find groups of similar texts without being told how many there are."""

from __future__ import annotations

import numpy as np
from scipy.sparse import csr_matrix, vstack
from sklearn.cluster import AgglomerativeClustering
from sklearn.decomposition import TruncatedSVD
from sklearn.preprocessing import normalize

NOISE = -1
MAX_DIMENSIONS = 100
ROWS_PER_DIMENSION = 20  # small corpora need few latent dimensions to generalise across wordings
# In a small latent space, texts that share nothing can land together; a member must share words with the rest.
MIN_SHARED = 0.05


def find_clusters(
    matrix: csr_matrix, *, min_size: int, similarity: float, context: csr_matrix | None = None, seed: int = 0
) -> np.ndarray:
    """Cluster the rows of a TF-IDF matrix; returns a label per row, NOISE for rows in no cluster.

    Rows are projected to a small latent semantic space (LSA), where texts that share no word but share
    context still come close, then merged by average-linkage agglomerative clustering until the mean cosine
    similarity inside a cluster would fall below `similarity`. The number of clusters follows from the data.
    `context` rows (known themes' centroids) help fit the latent space but are not clustered. Members that
    share no words with the rest of their cluster are dropped, and clusters smaller than `min_size` are noise.
    Labels are numbered by size, largest first.
    """
    n = matrix.shape[0]
    labels = np.full(n, NOISE, dtype=np.int64)
    usable = np.flatnonzero(matrix.getnnz(axis=1) > 0)
    if len(usable) < max(min_size, 2):
        return labels
    points = _latent(matrix[usable], context, seed)
    keep = np.linalg.norm(points, axis=1) > 0
    usable, points = usable[keep], points[keep]
    if len(usable) < max(min_size, 2):
        return labels
    found = AgglomerativeClustering(
        n_clusters=None, distance_threshold=1.0 - similarity, metric="cosine", linkage="average"
    ).fit_predict(points)
    found = _drop_strangers(matrix[usable], found)
    sizes = np.bincount(found[found >= 0], minlength=found.max(initial=0) + 1)
    # number clusters by size (ties by first member) so results do not depend on internal ordering
    order = sorted(
        (c for c in range(len(sizes)) if sizes[c] >= min_size), key=lambda c: (-sizes[c], int(np.argmax(found == c)))
    )
    renumber = {c: i for i, c in enumerate(order)}
    for row, cluster in zip(usable, found, strict=True):
        labels[row] = renumber.get(int(cluster), NOISE)
    return labels


def _latent(matrix: csr_matrix, context: csr_matrix | None, seed: int) -> np.ndarray:
    """Unit-length LSA coordinates of the rows (the matrix itself when it is too small to reduce)."""
    fit = matrix if context is None or context.shape[0] == 0 else vstack([matrix, context]).tocsr()
    dims = min(MAX_DIMENSIONS, max(3, fit.shape[0] // ROWS_PER_DIMENSION), fit.shape[0] - 1, fit.shape[1] - 1)
    if dims < 2:
        return normalize(matrix.toarray())
    svd = TruncatedSVD(n_components=dims, random_state=seed).fit(fit)
    return normalize(svd.transform(matrix))


def _drop_strangers(matrix: csr_matrix, found: np.ndarray) -> np.ndarray:
    """Mark as NOISE the members whose words barely overlap with the rest of their cluster."""
    result = found.copy()
    for cluster in np.unique(found):
        rows = np.flatnonzero(found == cluster)
        if len(rows) < 2:
            continue
        members = matrix[rows]
        total = np.asarray(members.sum(axis=0)).ravel()
        own = members.toarray()
        rest = total[None, :] - own
        norms = np.linalg.norm(rest, axis=1)
        shared = np.einsum("ij,ij->i", own, rest) / np.where(norms > 0, norms, 1.0)
        result[rows[shared < MIN_SHARED]] = NOISE
    return result
