"""Precision and recall of a generator (Kynkaanniemi et al. 2019), in a judge's feature space.

Each set's manifold is the union of balls around its points, each ball
reaching the point's k-th nearest neighbour in the same set. Precision is the
share of generated samples inside the real manifold (how many samples look
like data); recall is the share of real images inside the generated manifold
(how much of the data the samples cover).

A real outlier's ball can be wide, so a generator that draws one blob may
land inside it and score a high precision with no recall. Density and
coverage (Naeem et al. 2020) read the same balls in a way that such a blob
cannot fool: density counts how many real balls hold each sample (divided
by k: about 1 for samples like the data), coverage is the share of real
balls that hold at least one sample.
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


def ball_membership(manifold, radii, queries):
    """(how many balls of ``manifold`` hold each query, whether each ball holds any query)."""
    manifold, queries = np.asarray(manifold, np.float64), np.asarray(queries, np.float64)
    counts, hit = np.zeros(len(queries), np.int64), np.zeros(len(manifold), bool)
    for start in range(0, len(queries), ROWS):
        inside = _squared_distances(queries[start:start + ROWS], manifold) <= radii[None, :]
        counts[start:start + ROWS] = inside.sum(axis=1)
        hit |= inside.any(axis=0)
    return counts, hit


def share_inside(manifold, radii, queries):
    """The share of ``queries`` inside at least one ball of ``manifold`` (squared ``radii``)."""
    return float((ball_membership(manifold, radii, queries)[0] > 0).mean())


def manifold_figures(real, real_radii, generated, k=3):
    """Precision, recall, density and coverage of ``generated`` against ``real`` (whose balls are given)."""
    counts, hit = ball_membership(real, real_radii, generated)
    return {'precision': float((counts > 0).mean()),
            'recall': share_inside(generated, neighbour_radii(generated, k), real),
            'density': float(counts.sum() / (k * len(generated))),
            'coverage': float(hit.mean())}


def precision_recall(real, generated, k=3):
    """{'precision', 'recall', 'density', 'coverage'} of ``generated`` features against ``real`` features."""
    return manifold_figures(real, neighbour_radii(real, k), generated, k)
