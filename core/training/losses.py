"""The GAN losses on the discriminator's logits, per sample, chosen by the config's ``loss``.

- ``bce``: the seed's: sigmoid cross-entropy, real labelled 1 and generated 0
  for D; generated labelled 1 for G (the non-saturating loss, Goodfellow et al. 2014).
- ``hinge``: D minimises relu(1 - D(x)) + relu(1 + D(G(z))), G minimises
  -D(G(z)) (Lim and Ye 2017; Miyato et al. 2018).

Both take (N, 1) logits and return (N,) losses.
"""
import mxnet as mx
from mxnet import gluon


class NonSaturatingLoss:
    """Sigmoid cross-entropy on logits (the sigmoid lives inside the loss, which is stable)."""

    def __init__(self):
        self._bce = gluon.loss.SigmoidBinaryCrossEntropyLoss(from_sigmoid=False)

    def discriminator(self, real, fake, ones, zeros):
        return self._bce(real, ones) + self._bce(fake, zeros)

    def generator(self, fake, ones):
        return self._bce(fake, ones)


class HingeLoss:
    """The hinge loss of SN-GAN and BigGAN."""

    def discriminator(self, real, fake, ones, zeros):
        return mx.nd.mean(mx.nd.relu(ones - real), axis=1) + mx.nd.mean(mx.nd.relu(ones + fake), axis=1)

    def generator(self, fake, ones):
        return -mx.nd.mean(fake, axis=1)


LOSSES = {'bce': NonSaturatingLoss, 'hinge': HingeLoss}


def get_loss(name):
    return LOSSES[name]()


# The mutual-information term's weights (Chen et al., 2016): 1 for the categorical code; the continuous
# codes' Gaussian log-likelihood (unit variance) counts 0.1, as in the paper's MNIST runs.
CATEGORICAL_WEIGHT, CONTINUOUS_WEIGHT = 1.0, 0.1


def code_loss(read, codes, categories=10):
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


def mode_seeking_penalty(images, noise, eps=1e-5):
    """The mode-seeking term of MSGAN (Mao et al. 2019) for one device's batch, as a (1,) array.

    The batch's two halves are pairs of noise vectors: the term is
    mean|z_a - z_b| / mean|G(z_a) - G(z_b)|, large when different noise gives
    alike images. Added to G's loss, it pushes G to spread its images out. On
    lenet5 the seed's training collapses within 20 iterations to a few dark
    shapes; this term is what kept it drawing digits in the 400-iteration trials
    (README, "Training recipes").
    """
    half = images.shape[0] // 2
    image_gap = mx.nd.mean(mx.nd.abs(images[:half] - images[half:2 * half]))
    noise_gap = mx.nd.mean(mx.nd.abs(noise[:half] - noise[half:2 * half]))
    return noise_gap / (image_gap + eps)
