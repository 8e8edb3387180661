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
