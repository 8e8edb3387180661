"""Quality figures of 2-D samples against seed 004's toy targets (core/data/toy.py), in place of the MNIST judge.

- ``energy_distance`` to a fresh sample of the target (0 when the two match);
- for the ring: ``modes_covered`` (the share of the 8 Gaussians that get at
  least 2% of the points within 3 standard deviations) and ``near_a_mode``;
- for the square: ``cells_covered`` (the share of a 10x10 grid over it that
  gets at least a fifth of its due points) and ``inside``.
"""
import numpy as np

from . import metrics
from .data.toy import RING_STD, make_points, ring_centres

TARGET_SEED = 12345  # the target sample compared with: fixed, and apart from any training seed


def judge_points(points, dataset):
    """The figures of ``points`` (N, 2) as samples of toy dataset ``dataset``."""
    points = np.asarray(points, np.float64)
    target, _ = make_points(dataset, min(len(points), 2000), TARGET_SEED)
    sample = points[:2000]
    figures = {'samples': len(points), 'energy_distance': metrics.energy_distance(sample, target)}
    if dataset == 'toy-ring':
        figures.update(metrics.mode_coverage(points, ring_centres(), 3 * RING_STD))
    else:
        figures.update(metrics.cell_coverage(points))
    return figures


def format_points_figures(figures):
    """One line of the 2-D figures."""
    parts = [f"{figures['samples']} points: energy distance {figures['energy_distance']:.4f}"]
    parts += [f"{key.replace('_', ' ')} {figures[key]:.3f}" for key in
              ('modes_covered', 'near_a_mode', 'cells_covered', 'inside') if key in figures]
    return ', '.join(parts)
