"""The kernel distance (KID, Binkowski et al. 2018): an unbiased squared MMD with a cubic polynomial kernel.

Unlike the Frechet distance it has no bias that depends on the sample count,
so it compares small sets fairly (a folder of a few hundred pictures). It is
averaged over random subsets, as stylegan2-ada's ``kid50k_full`` does.
"""
import numpy as np


def polynomial_kernel(x, y):
    """k(x, y) = (x.y / d + 1)^3 for every pair of rows of x (N, d) and y (M, d)."""
    return (x @ y.T / x.shape[1] + 1) ** 3


def squared_mmd(x, y):
    """The unbiased estimate of MMD^2 between x (m, d) and y (m, d) with the polynomial kernel.

    The within-set sums leave out each point's kernel with itself; the
    cross term keeps every pair (both sets have m rows).
    """
    m = len(x)
    within_x, within_y, across = polynomial_kernel(x, x), polynomial_kernel(y, y), polynomial_kernel(x, y)
    off_diagonal = within_x.sum() - np.trace(within_x) + within_y.sum() - np.trace(within_y)
    return float(off_diagonal / (m * (m - 1)) - 2 * across.sum() / m ** 2)


def kernel_distance(features_a, features_b, subsets=100, subset_size=1000, seed=0):
    """The mean of ``subsets`` unbiased MMD^2 estimates, each on ``subset_size`` rows of each set.

    Subsets are drawn without replacement by a fixed seed, so a figure is
    repeatable; sets smaller than ``subset_size`` are used whole-sized.
    """
    a, b = np.asarray(features_a, np.float64), np.asarray(features_b, np.float64)
    m = min(len(a), len(b), subset_size)
    if m < 2:
        raise ValueError("the kernel distance needs at least 2 samples in each set")
    rng = np.random.default_rng(seed)
    return float(np.mean([squared_mmd(a[rng.choice(len(a), m, replace=False)],
                                      b[rng.choice(len(b), m, replace=False)]) for _ in range(subsets)]))
