"""Seed 003's fully connected GAN: MLPs with LeakyReLU, a tanh image, one logit.

The seed gives the depths, not the widths; the widths here double layer by
layer as in most fully connected GANs (the seed's own repository, GenZoo,
and the PyTorch examples use the same progression):

- gray images (MNIST): G is 5 layers, 256, 512, 1024, 1024, then the image;
  D is 3 layers, 512, 256, then one logit;
- colour images (CIFAR-10, a folder): G is 6 layers, 256, 512, 1024, 2048,
  2048, then the image; D is 4 layers, 1024, 512, 256, then one logit.

Any square image size works: the image is a flattened vector here.
"""
from mxnet.gluon import nn

from .layers import Discriminator, dense

GENERATOR_WIDTHS = {1: (256, 512, 1024, 1024), 3: (256, 512, 1024, 2048, 2048)}
DISCRIMINATOR_WIDTHS = {1: (512, 256), 3: (1024, 512, 256)}


class MLPDiscriminator(Discriminator):
    """Flatten, LeakyReLU dense layers, one logit (the seed's sigmoid lives in the loss).

    Parameters
    ----------
    channels : int
        Image channels: 1 picks the 3-layer network, 3 the 4-layer one.
    slope, eps, spectral_norm, class_planes
        As for every discriminator (``eps`` unused: no BatchNorm; the class
        planes of the seed's conditioning are simply more inputs).
    """

    def __init__(self, channels=1, slope=0.2, eps=1e-5, spectral_norm=False, class_planes=0, **kwargs):
        super().__init__(**kwargs)
        with self.name_scope():
            self.features = nn.HybridSequential(prefix='')
            self.features.add(nn.Flatten())
            for width in DISCRIMINATOR_WIDTHS[3 if channels == 3 else 1]:
                self.features.add(dense(width, spectral_norm=spectral_norm), nn.LeakyReLU(slope))
            self.output = dense(1, spectral_norm=spectral_norm)


class MLPGenerator(nn.HybridBlock):
    """LeakyReLU dense layers, then a dense layer to every pixel, tanh, reshaped to an image.

    Parameters
    ----------
    channels : int
        Image channels: 1 picks the 5-layer network, 3 the 6-layer one.
    image_size : int
        Height and width of the image.
    slope : float
        LeakyReLU slope.
    eps : float
        Unused (no BatchNorm); accepted so every generator is built the same way.
    """

    def __init__(self, channels=1, image_size=28, slope=0.2, eps=1e-5, **kwargs):
        super().__init__(**kwargs)
        self._shape = (channels, image_size, image_size)
        with self.name_scope():
            self.features = nn.HybridSequential(prefix='')
            for width in GENERATOR_WIDTHS[3 if channels == 3 else 1]:
                self.features.add(nn.Dense(width), nn.LeakyReLU(slope))
            self.output = nn.Dense(channels * image_size * image_size)

    def hybrid_forward(self, F, z):
        return F.reshape(F.tanh(self.output(self.features(z))), (0,) + self._shape)
