"""Seed 004's 2-D toy data, made in memory: points, not pictures.

- ``toy-uniform``: seed 004's example, points uniform in the unit square
  (``numpy.random.rand(N, 2)`` there);
- ``toy-ring``: the classic ring of 8 Gaussians (radius 1, standard deviation
  0.05), where a GAN that collapses onto a few modes shows it at a glance.

Labels are the mode of each point (0 for the square). The ``toy2d``
networks (core/networks/toy2d.py) train on them; the sample "grids" are
scatter plots, and the quality figures are core/metrics.py's 2-D ones.
"""
import numpy as np

from .imageset import ImageSet

TOY_DATASETS = ('toy-uniform', 'toy-ring')
RING_MODES, RING_RADIUS, RING_STD = 8, 1.0, 0.05
POINTS = 100_000  # seed 004 draws a million; this many already fill the plots and train the same


def ring_centres():
    """(8, 2) centres of the ring's Gaussians."""
    angles = 2 * np.pi * np.arange(RING_MODES) / RING_MODES
    return RING_RADIUS * np.stack([np.cos(angles), np.sin(angles)], axis=1)


def make_points(name, count, seed=0):
    """(points (count, 2) float32, labels (count,) int64) of toy dataset ``name``."""
    rng = np.random.default_rng([seed, 5])
    if name == 'toy-uniform':
        return rng.random((count, 2)).astype(np.float32), np.zeros(count, np.int64)
    modes = rng.integers(0, RING_MODES, count)
    points = ring_centres()[modes] + rng.normal(0, RING_STD, (count, 2))
    return points.astype(np.float32), modes.astype(np.int64)


def load_toy(name, seed=0, count=POINTS):
    """The toy dataset ``name`` as an ImageSet whose 'images' are (N, 2) float32 points."""
    points, labels = make_points(name, count, seed)
    names = [f'mode {k}' for k in range(RING_MODES)] if name == 'toy-ring' else ['square']
    return ImageSet(points, labels, f'{name} ({count} points made in memory)', names)


def is_points(images):
    """Whether a dataset's or a generator's arrays are 2-D points rather than pictures."""
    return np.asarray(images).ndim == 2
