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


def iteration_noise(seed, iteration, batch_size, noise_dim, noise_range):
    """The noise of one iteration."""
    low, high = noise_range
    rng = np.random.default_rng([seed, 1, iteration])
    return rng.uniform(low, high, size=(batch_size, noise_dim)).astype(np.float32)


def fixed_noise(seed, count, noise_dim, noise_range):
    """The noise of the sample grids, the same for every grid of a run."""
    low, high = noise_range
    return np.random.default_rng([seed, 2]).uniform(low, high, size=(count, noise_dim)).astype(np.float32)
