"""Figures of 2-D points against seed 004's toy targets (core/toy_judge.py)."""
import numpy as np


def energy_distance(a, b):
    """The energy distance between two sets of points: 2 E|a - b| - E|a - a'| - E|b - b'| (0 when alike).

    Székely and Rizzo's statistic, with all pairs (the sets here are a few
    thousand points); it is 0 exactly when the two distributions are equal.
    """
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)

    def mean_distance(x, y):
        return float(np.sqrt(((x[:, None, :] - y[None, :, :]) ** 2).sum(axis=2)).mean())

    return 2 * mean_distance(a, b) - mean_distance(a, a) - mean_distance(b, b)


def mode_coverage(points, centres, radius, min_share=0.02):
    """How a sample covers a mixture's modes: the share of modes reached, and the share of points near any mode.

    A mode counts as covered when at least ``min_share`` of the points lie
    within ``radius`` of its centre; a GAN collapsed onto a few modes covers
    few, one that spreads between modes has few points near any.
    """
    points, centres = np.asarray(points, np.float64), np.asarray(centres, np.float64)
    distances = np.sqrt(((points[:, None, :] - centres[None, :, :]) ** 2).sum(axis=2))
    nearest, near = distances.argmin(axis=1), distances.min(axis=1) <= radius
    shares = np.bincount(nearest[near], minlength=len(centres)) / len(points)
    return {'modes_covered': float((shares >= min_share).mean()), 'near_a_mode': float(near.mean())}


def cell_coverage(points, low=0.0, high=1.0, cells=10, min_share=0.2):
    """A square's coverage: the share of its cells x cells grid holding at least ``min_share`` of their due points."""
    points = np.asarray(points, np.float64)
    inside = np.all((points >= low) & (points < high), axis=1)
    index = np.floor((points[inside] - low) / (high - low) * cells).astype(int)
    counts = np.bincount(index[:, 0] * cells + index[:, 1], minlength=cells * cells)
    due = len(points) / cells ** 2
    return {'cells_covered': float((counts >= min_share * due).mean()), 'inside': float(inside.mean())}
