"""The Frechet distance between two sets of features (Heusel et al. 2017), as Gaussians."""
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
