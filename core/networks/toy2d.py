"""Seed 004's 2-D toy networks: fully connected layers with BatchNorm, 10-d Gaussian noise in, a point out.

Seed 004 gives the idea, not the widths: two hidden layers of 128 each way.
G: FC 128 BatchNorm ReLU, FC 128 BatchNorm ReLU, FC 2 (a linear output: the
points are not pictures and need no squashing). D: FC 128 LeakyReLU, FC 128
BatchNorm LeakyReLU, one logit.
"""
from mxnet.gluon import nn

from .layers import Discriminator, dense


class Toy2DDiscriminator(Discriminator):
    """FC 128 LeakyReLU, FC 128 BatchNorm LeakyReLU, one logit."""

    def __init__(self, slope=0.2, eps=1e-5, spectral_norm=False, class_planes=0, **kwargs):
        super().__init__(**kwargs)
        with self.name_scope():
            self.features = nn.HybridSequential(prefix='')
            self.features.add(dense(128, spectral_norm=spectral_norm), nn.LeakyReLU(slope),
                              dense(128, use_bias=False, spectral_norm=spectral_norm), nn.BatchNorm(epsilon=eps),
                              nn.LeakyReLU(slope))
            self.output = dense(1, spectral_norm=spectral_norm)


class Toy2DGenerator(nn.HybridBlock):
    """FC 128 and FC 128 (BatchNorm, ReLU), then FC 2: one point per noise vector."""

    def __init__(self, channels=1, eps=1e-5, **kwargs):
        super().__init__(**kwargs)
        with self.name_scope():
            self.features = nn.HybridSequential(prefix='')
            for _ in range(2):
                self.features.add(nn.Dense(128, use_bias=False), nn.BatchNorm(epsilon=eps), nn.Activation('relu'))
            self.output = nn.Dense(2)

    def hybrid_forward(self, F, z):
        return self.output(self.features(z))
