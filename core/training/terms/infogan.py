"""InfoGAN's codes (Chen et al. 2016): G also takes latent codes, and D's second head (Q) reads them back.

The networks are core/networks/infogan.py; the codes core/data/codes.py. The
codes play the classes' part: G's second input, drawn each iteration from the
run's seed and the iteration, and what the mutual-information term reads.
"""
import mxnet as mx
import numpy as np

from ...data.codes import CATEGORIES, CODE_LENGTH, draw_codes, iteration_codes
from ...networks import takes_codes
from .base import Term

# The mutual-information term's weights (Chen et al., 2016): 1 for the categorical code; the continuous
# codes' Gaussian log-likelihood (unit variance) counts 0.1, as in the paper's MNIST runs.
CATEGORICAL_WEIGHT, CONTINUOUS_WEIGHT = 1.0, 0.1


def code_loss(read, codes, categories=CATEGORIES):
    """InfoGAN's mutual-information term per sample, (B,): how badly D's Q head ``read`` the ``codes``.

    ``read`` and ``codes`` are (B, 12): the categorical code's 10 logits (codes:
    one-hot) then the 2 continuous codes (codes: values; read: means). Both
    networks minimise it: Q learns to read the codes, G to draw them readably.
    """
    logits, means = mx.nd.slice_axis(read, axis=1, begin=0, end=categories), \
        mx.nd.slice_axis(read, axis=1, begin=categories, end=None)
    one_hot, values = mx.nd.slice_axis(codes, axis=1, begin=0, end=categories), \
        mx.nd.slice_axis(codes, axis=1, begin=categories, end=None)
    categorical = -mx.nd.sum(one_hot * mx.nd.log_softmax(logits, axis=1), axis=1)
    continuous = 0.5 * mx.nd.sum(mx.nd.square(means - values), axis=1)
    return CATEGORICAL_WEIGHT * categorical + CONTINUOUS_WEIGHT * continuous


class InfoGANCodes(Term):
    """Draws G's codes and adds the mutual-information term to both networks' losses."""

    reads_head = True
    label_shape = (CODE_LENGTH,)

    @staticmethod
    def wanted(cfg):
        return takes_codes(cfg.discriminator_type)

    def __init__(self, cfg):
        self.seed, self.batch_size = cfg.seed, cfg.batch_size

    def draw_labels(self, iteration, first, count):
        # A function of the run's seed and the iteration, as the noise is: a resumed run draws the same codes.
        return iteration_codes(self.seed, iteration, self.batch_size)[first:first + count]

    def sample_labels(self, count):
        return draw_codes(np.random.default_rng([self.seed, 3]), count)  # random codes, the same each call

    def discriminator_loss(self, judged):
        return code_loss(judged.fake_head, judged.labels)  # Q learns to read G's codes back

    def generator_loss(self, judged):
        return code_loss(judged.fake_head, judged.labels)  # G draws its codes readably
