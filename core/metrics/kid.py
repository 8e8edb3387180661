"""The kernel distance (KID, Binkowski et al. 2018): an unbiased squared MMD with a cubic polynomial kernel.

Unlike the Frechet distance it has no bias that depends on the sample count,
so it compares small sets fairly (a folder of a few hundred pictures). It is
averaged over random subsets, as stylegan2-ada's ``kid50k_full`` does.

The kernel, (x.y / d + 1)^3, was made for Inception's features, whose dot
products over d are below 1. A judge's features can be far larger (the icons'
judge: mean norm 40 in 128 dimensions, kernel values from 120 to 100,000),
and then a few images with large features rule the cubic and KID jumps about.
So both sets are first divided by the reference's root-mean-square feature
(``feature_scale``): the reference's x.x / d averages 1 whatever the judge, and
KID does not change when a judge's features are all scaled by a constant.
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


def feature_scale(reference):
    """The root-mean-square coordinate of the reference's features: sqrt(mean over rows of x.x / d)."""
    reference = np.asarray(reference, np.float64)
    scale = float(np.sqrt(np.mean(np.sum(reference ** 2, axis=1)) / reference.shape[1]))
    return scale if scale > 0 else 1.0


def kernel_distance(features, reference, subsets=100, subset_size=1000, seed=0):
    """The mean of ``subsets`` unbiased MMD^2 estimates, each on ``subset_size`` rows of each set.

    Both sets are divided by ``feature_scale(reference)`` first (the module
    says why). Subsets are drawn without replacement by a fixed seed, so a
    figure is repeatable; sets smaller than ``subset_size`` are used whole-sized.
    """
    scale = feature_scale(reference)
    a, b = np.asarray(features, np.float64) / scale, np.asarray(reference, np.float64) / scale
    m = min(len(a), len(b), subset_size)
    if m < 2:
        raise ValueError("the kernel distance needs at least 2 samples in each set")
    rng = np.random.default_rng(seed)
    return float(np.mean([squared_mmd(a[rng.choice(len(a), m, replace=False)],
                                      b[rng.choice(len(b), m, replace=False)]) for _ in range(subsets)]))
