"""Precision and recall of a generator (Kynkaanniemi et al. 2019), in a judge's feature space.

Each set's manifold is the union of balls around its points, each ball
reaching the point's k-th nearest neighbour in the same set. Precision is the
share of generated samples inside the real manifold (how many samples look
like data); recall is the share of real images inside the generated manifold
(how much of the data the samples cover).
"""
import numpy as np

ROWS = 1000  # distance rows computed at a time: 1000 x N float64, 80 MB for N = 10,000


def _squared_distances(a, b):
    """(len(a), len(b)) squared Euclidean distances, clipped at 0 against rounding."""
    return np.maximum((a * a).sum(1)[:, None] + (b * b).sum(1)[None, :] - 2 * a @ b.T, 0)


def neighbour_radii(features, k=3):
    """The squared distance from each point to its k-th nearest other point of the same set."""
    features = np.asarray(features, np.float64)
    if len(features) <= k:
        raise ValueError(f"precision and recall with k = {k} need more than {k} samples in each set")
    radii = np.empty(len(features))
    for start in range(0, len(features), ROWS):
        d = _squared_distances(features[start:start + ROWS], features)
        radii[start:start + ROWS] = np.partition(d, k, axis=1)[:, k]  # column 0 is the point itself
    return radii


def share_inside(manifold, radii, queries):
    """The share of ``queries`` inside at least one ball of ``manifold`` (squared ``radii``)."""
    manifold, queries = np.asarray(manifold, np.float64), np.asarray(queries, np.float64)
    inside = np.zeros(len(queries), bool)
    for start in range(0, len(queries), ROWS):
        d = _squared_distances(queries[start:start + ROWS], manifold)
        inside[start:start + ROWS] = (d <= radii[None, :]).any(axis=1)
    return float(inside.mean())


def precision_recall(real, generated, k=3):
    """{'precision', 'recall'} of ``generated`` features against ``real`` features, with k nearest neighbours."""
    return {'precision': share_inside(real, neighbour_radii(real, k), generated),
            'recall': share_inside(generated, neighbour_radii(generated, k), real)}
