"""The GAN losses on the discriminator's logits, per sample, chosen by the config's ``loss``.

- ``bce``: the seed's: sigmoid cross-entropy, real labelled 1 and generated 0
  for D; generated labelled 1 for G (the non-saturating loss, Goodfellow et al. 2014).
- ``hinge``: D minimises relu(1 - D(x)) + relu(1 + D(G(z))), G minimises
  -D(G(z)) (Lim and Ye 2017; Miyato et al. 2018).

Both take (N, 1) logits and return (N,) losses. :class:`AdversarialLoss` is the
part of the step that plays the chosen one; the extra terms are in terms/.
A new GAN loss is one class here and one line in ``LOSSES``.
"""
import mxnet as mx
from mxnet import gluon

from .terms import Term


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


class AdversarialLoss(Term):
    """The game itself, the first part of both losses: D tells real images from generated ones, G wants its called real.

    D's targets: real 1, generated 0; G wants its images called real. Seed
    003's label flipping (``flip_labels``) swaps them: the same game with D's
    logit negated. The targets are made once per device, for the device's
    share of the batch.
    """

    def __init__(self, cfg, contexts, device_batch):
        self.loss = get_loss(cfg.loss)
        self._real = {c: mx.nd.ones((device_batch, 1), ctx=c) for c in contexts}
        self._fake = {c: mx.nd.zeros((device_batch, 1), ctx=c) for c in contexts}
        if cfg.flip_labels:
            self._real, self._fake = self._fake, self._real
        self._sign = -1 if cfg.flip_labels else 1

    def discriminator_loss(self, judged):
        ctx = judged.fake.context
        return self.loss.discriminator(judged.real, judged.fake, self._real[ctx], self._fake[ctx])

    def generator_loss(self, judged):
        return self.loss.generator(judged.fake, self._real[judged.fake.context])

    def realness(self, logits):
        """D's probability that the images are real, per sample (with flipped labels, its logit says "generated")."""
        return mx.nd.sigmoid(self._sign * logits)

    def real_signs(self, logits):
        """+1 where D calls the images real, -1 where generated, per sample (ADA's sign of D's logits)."""
        return mx.nd.sign(self._sign * logits)
