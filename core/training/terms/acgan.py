"""The auxiliary classifier of AC-GAN (Odena et al. 2017): D also names the class, G wants its class named.

With ``--conditioning acgan`` the discriminator sees the image alone and its
second head gives class logits (core/networks/conditioning.py).
"""
from mxnet import gluon

from ...networks import discriminator_takes_class
from .base import Term


class AuxiliaryClassifier(Term):
    """The class-naming terms of both networks' losses."""

    reads_head = True

    @staticmethod
    def wanted(cfg):
        return cfg.conditional and not discriminator_takes_class(cfg.conditioning)

    def __init__(self, cfg):
        self.class_loss = gluon.loss.SoftmaxCrossEntropyLoss()

    def discriminator_loss(self, judged):
        # D learns to name the class of real images. Not of generated ones, as
        # the paper does: in 300-iteration trials that made the digits worse
        # (docs/recipes.md).
        return self.class_loss(judged.real_head, judged.labels)

    def generator_loss(self, judged):
        # G wants its images read as the class it was asked for.
        return self.class_loss(judged.fake_head, judged.labels)
