"""InfoGAN's latent codes (core/networks/infogan.py) as numpy arrays: what training draws and test.py varies.

A code vector is 12 numbers: the one-hot categorical code (10 values),
then the two continuous codes in [-1, 1]. No mxnet here: the samplers use it.
"""
import numpy as np

CATEGORIES, CONTINUOUS = 10, 2  # the InfoGAN paper's MNIST codes
CODE_LENGTH = CATEGORIES + CONTINUOUS


def make_codes(categories, continuous):
    """(N, 12) float32 codes from N category numbers and (N, 2) continuous values."""
    codes = np.zeros((len(categories), CODE_LENGTH), np.float32)
    codes[np.arange(len(categories)), np.asarray(categories, int)] = 1
    codes[:, CATEGORIES:] = continuous
    return codes


def draw_codes(rng, count):
    """Random codes: a uniform category, continuous codes uniform in [-1, 1]."""
    return make_codes(rng.integers(0, CATEGORIES, count), rng.uniform(-1, 1, (count, CONTINUOUS)))


def iteration_codes(seed, iteration, count):
    """The codes of one iteration: a pure function of (seed, iteration), as the noise is."""
    return draw_codes(np.random.default_rng([seed, 4, iteration]), count)


def code_grid(columns, vary=0, span=1.0):
    """Codes for the InfoGAN paper's picture: category by row (10 rows), continuous code ``vary`` by column.

    The varied code runs from -span to span across the ``columns``; the other stays 0.
    """
    categories = np.repeat(np.arange(CATEGORIES), columns)
    continuous = np.zeros((len(categories), CONTINUOUS), np.float32)
    continuous[:, vary] = np.tile(np.linspace(-span, span, columns), CATEGORIES)
    return make_codes(categories, continuous)
