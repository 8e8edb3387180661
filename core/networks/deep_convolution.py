"""Deep-convolution (DCGAN) discriminator of seed 000 and its mirrored generator (64x64 images)."""
from mxnet.gluon import nn

from .layers import Discriminator, OutputConv2DTranspose, conv2d, conv_bn_leaky, deconv_bn_relu


class DeepConvolutionDiscriminator(Discriminator):
    """Four 4x4 stride-2 convolutions (128 to 1024 filters), then a 4x4 convolution to one logit.

    Parameters
    ----------
    slope : float
        LeakyReLU slope.
    eps : float
        BatchNorm epsilon (BatchNorm on every convolution but the first).
    spectral_norm : bool
        Spectrally normalise every weight.
    class_planes : int
        The input ends with this many one-hot class planes (the seed's CGAN
        conditioning): the first convolution then takes them the cheap way.
    """

    def __init__(self, slope=0.2, eps=1e-5, spectral_norm=False, class_planes=0, **kwargs):
        super().__init__(**kwargs)
        with self.name_scope():
            self.features = nn.HybridSequential(prefix='')
            for i, channels in enumerate((128, 256, 512, 1024)):
                # Output: (128, 32, 32), (256, 16, 16), (512, 8, 8), (1024, 4, 4)
                self.features.add(conv_bn_leaky(channels, 4, 2, 1, slope, eps, batch_norm=i > 0,
                                                spectral_norm=spectral_norm, class_planes=0 if i else class_planes))
            # Output: (1, 1, 1)
            self.output = conv2d(1, 4, strides=1, padding=0, spectral_norm=spectral_norm)


class DeepConvolutionGenerator(nn.HybridBlock):
    """The discriminator mirrored: noise as a 1x1 image, up-convolutions 1024 to 128 filters, tanh.

    Parameters
    ----------
    channels : int
        Image channels.
    eps : float
        BatchNorm epsilon.
    activation : str
        'relu' (seed 000, DCGAN) or 'leaky': LeakyReLU 0.2 after every up-convolution, the one change
        seed 002's DCGAN makes (``--generator-activation leaky``).
    """

    def __init__(self, channels=1, eps=1e-5, activation='relu', **kwargs):
        super().__init__(**kwargs)
        with self.name_scope():
            self.features = nn.HybridSequential(prefix='')
            # Output: (1024, 4, 4)
            self.features.add(deconv_bn_relu(1024, 4, 1, 0, eps, activation=activation))
            for out_channels in (512, 256, 128):
                # Output: (512, 8, 8), (256, 16, 16), (128, 32, 32)
                self.features.add(deconv_bn_relu(out_channels, 4, 2, 1, eps, activation=activation))
            # Output: (channels, 64, 64)
            self.output = OutputConv2DTranspose(channels, 4, strides=2, padding=1)

    def hybrid_forward(self, F, z):
        x = F.reshape(z, (0, -1, 1, 1))
        return F.tanh(self.output(self.features(x)))
