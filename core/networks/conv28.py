"""The seed's CGAN networks for 28x28 images: two convolutions each way."""
from mxnet.gluon import nn

from .layers import Discriminator, OutputConv2DTranspose, conv_bn_leaky, dense, deconv_bn_relu


class Conv28Discriminator(Discriminator):
    """Convolutions of 128 and 256 5x5 filters (stride 2, BatchNorm on the second), then one logit.

    Parameters
    ----------
    slope : float
        LeakyReLU slope.
    eps : float
        BatchNorm epsilon.
    spectral_norm : bool
        Spectrally normalise every weight (:class:`SNConv2D`, :class:`SNDense`).
    class_planes : int
        The input ends with this many one-hot class planes (the seed's CGAN
        conditioning): the first convolution then takes them the cheap way.
    """

    def __init__(self, slope=0.2, eps=1e-5, spectral_norm=False, class_planes=0, **kwargs):
        super().__init__(**kwargs)
        with self.name_scope():
            self.features = nn.HybridSequential(prefix='')
            # Output: (128, 14, 14), then (256, 7, 7)
            self.features.add(conv_bn_leaky(128, 5, 2, 2, slope, eps, batch_norm=False, spectral_norm=spectral_norm,
                                            class_planes=class_planes),
                              conv_bn_leaky(256, 5, 2, 2, slope, eps, spectral_norm=spectral_norm))
            self.output = dense(1, spectral_norm=spectral_norm)


class Conv28Generator(nn.HybridBlock):
    """Noise as a 1x1 image, up-convolutions to (256, 7, 7), (128, 14, 14) and (channels, 28, 28), tanh.

    Parameters
    ----------
    channels : int
        Image channels.
    eps : float
        BatchNorm epsilon.
    """

    def __init__(self, channels=1, eps=1e-5, **kwargs):
        super().__init__(**kwargs)
        with self.name_scope():
            self.features = nn.HybridSequential(prefix='')
            self.features.add(deconv_bn_relu(256, 7, 1, 0, eps),                    # (256, 7, 7)
                              deconv_bn_relu(128, 5, 2, 2, eps, output_padding=1))  # (128, 14, 14)
            # Output: (channels, 28, 28)
            self.output = OutputConv2DTranspose(channels, 5, strides=2, padding=2, output_padding=1)

    def hybrid_forward(self, F, z):
        x = F.reshape(z, (0, -1, 1, 1))
        return F.tanh(self.output(self.features(x)))
