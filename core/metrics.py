"""Quality of generated digits, judged by an MNIST classifier: the maths, in plain numpy.

Every function takes arrays the judge produced (penultimate features, class
probabilities), so it can be checked on numbers alone.
"""
import numpy as np


def feature_statistics(features):
    """Mean and covariance of (N, D) features."""
    features = np.asarray(features, dtype=np.float64)
    return features.mean(axis=0), np.cov(features, rowvar=False)


def _sqrt_psd(matrix):
    """Square root of a symmetric positive semi-definite matrix (tiny negative eigenvalues are clipped)."""
    values, vectors = np.linalg.eigh((matrix + matrix.T) / 2)
    return (vectors * np.sqrt(np.clip(values, 0, None))) @ vectors.T


def frechet_distance(mean_a, cov_a, mean_b, cov_b):
    """Frechet distance between two Gaussians: |ma - mb|^2 + tr(Ca + Cb - 2 (Ca Cb)^(1/2)).

    tr((Ca Cb)^(1/2)) is computed as tr((Ca^(1/2) Cb Ca^(1/2))^(1/2)), whose
    matrix is symmetric, so only symmetric eigendecompositions are needed.
    """
    root_a = _sqrt_psd(np.asarray(cov_a, dtype=np.float64))
    middle = root_a @ np.asarray(cov_b, dtype=np.float64) @ root_a
    trace_root = np.sqrt(np.clip(np.linalg.eigvalsh((middle + middle.T) / 2), 0, None)).sum()
    diff = np.asarray(mean_a, dtype=np.float64) - np.asarray(mean_b, dtype=np.float64)
    return float(diff @ diff + np.trace(cov_a) + np.trace(cov_b) - 2 * trace_root)


def classifier_score(probs, eps=1e-12):
    """exp(mean KL(p(y|x) || p(y))): an Inception-Score analogue for digits, from 1 to the class count."""
    probs = np.asarray(probs, dtype=np.float64)
    marginal = probs.mean(axis=0)
    kl = (probs * (np.log(probs + eps) - np.log(marginal + eps))).sum(axis=1)
    return float(np.exp(kl.mean()))


def class_coverage(probs):
    """How evenly the classes appear among the judge's readings.

    Returns the share of each class, and their normalised entropy: 1 when all
    classes are equally frequent, 0 when every sample reads as one class.
    """
    probs = np.asarray(probs)
    classes = probs.shape[1]
    shares = np.bincount(probs.argmax(axis=1), minlength=classes) / len(probs)
    nonzero = shares[shares > 0]
    entropy = abs(float(-(nonzero * np.log(nonzero)).sum() / np.log(classes)))  # abs: no '-0.0'
    return {'evenness': entropy, 'shares': shares.tolist(), 'min_share': float(shares.min())}


def conditional_accuracy(probs, requested):
    """Share of samples that the judge reads as the class they were drawn for."""
    return float((np.asarray(probs).argmax(axis=1) == np.asarray(requested)).mean())


# --- 2-D points (seed 004's toy) --------------------------------------------------------

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
