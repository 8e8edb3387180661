"""The order of the images in each epoch and the noise of each iteration: pure functions of the seed.

A resumed run calls them with the same arguments as an uninterrupted one, so
it sees the same batches and the same noise.
"""
import numpy as np


def epoch_order(seed, epoch, n):
    """The shuffled order of the ``n`` images in ``epoch``."""
    return np.random.default_rng([seed, 0, epoch]).permutation(n)


def batches_per_epoch(n, batch_size):
    """Full batches only: a smaller last batch would change the graphs' static shapes."""
    return n // batch_size


NOISE_DISTRIBUTIONS = ('uniform', 'gaussian')


def draw_noise(rng, count, noise_dim, noise_range, distribution='uniform'):
    """(count, noise_dim) float32 noise: uniform in ``noise_range``, or standard normal ('gaussian', seed 004's)."""
    if distribution == 'gaussian':
        return rng.standard_normal(size=(count, noise_dim)).astype(np.float32)
    low, high = noise_range
    return rng.uniform(low, high, size=(count, noise_dim)).astype(np.float32)


def iteration_noise(seed, iteration, batch_size, noise_dim, noise_range, distribution='uniform', step=0):
    """The noise of one iteration; ``step`` > 0: that of its extra generator update number ``step`` (--g-steps)."""
    key = [seed, 1, iteration] if step == 0 else [seed, 3, iteration, step]
    return draw_noise(np.random.default_rng(key), batch_size, noise_dim, noise_range, distribution)


def fixed_noise(seed, count, noise_dim, noise_range, distribution='uniform'):
    """The noise of the sample grids, the same for every grid of a run."""
    return draw_noise(np.random.default_rng([seed, 2]), count, noise_dim, noise_range, distribution)
