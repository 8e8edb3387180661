"""Deep-convolution (DCGAN) discriminator of seed 000 and its mirrored generator (64x64 or 32x32 images, any width)."""
from mxnet.gluon import nn

from .layers import Discriminator, OutputConv2DTranspose, conv2d, conv_bn_leaky, deconv_bn_relu

# The seed's filters, from the discriminator's first stage (32x32 at a 64x64 input) to its last (4x4).
SEED_WIDTHS = (128, 256, 512, 1024)
IMAGE_SIZES = (64, 32)  # 64: the seed's; 32 drops the last stage (1024 filters at 4x4)
# oneDNN computes in blocks of 8 channels (AVX2; 16 with AVX-512): a layer of 13 filters costs what one of
# 16 does, so widths are rounded to a multiple of 8, and a layer keeps at least 8 filters.
CHANNEL_MULTIPLE = 8


def stage_widths(image_size=64, width=1.0):
    """Filters of each stride-2 stage of the discriminator (the generator's, reversed) for ``image_size`` and ``width``.

    The seed's (128, 256, 512, 1024) times ``width``, each rounded to a
    multiple of 8 (the nearest, halves up; at least 8); a 32x32 image has one stage fewer, ending at
    4x4 like the seed's, so the pair drops its last stage (the 1024 filters).
    """
    if image_size not in IMAGE_SIZES:
        raise ValueError(f"deep_convolution works with images of size 64 or 32, not {image_size}")
    stages = SEED_WIDTHS[:len(SEED_WIDTHS) - IMAGE_SIZES.index(image_size)]
    return tuple(max(CHANNEL_MULTIPLE, CHANNEL_MULTIPLE * int(c * width / CHANNEL_MULTIPLE + 0.5)) for c in stages)


class DeepConvolutionDiscriminator(Discriminator):
    """4x4 stride-2 convolutions (128 to 1024 filters times ``width``), then a 4x4 convolution to one logit.

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
    image_size : int
        64 (the seed's: four stages) or 32 (three: 128 to 512 filters).
    width : float
        Every layer's filters times this (:func:`stage_widths`); 1 is the seed's network.
    """

    def __init__(self, slope=0.2, eps=1e-5, spectral_norm=False, class_planes=0, image_size=64, width=1.0,
                 **kwargs):
        super().__init__(**kwargs)
        with self.name_scope():
            self.features = nn.HybridSequential(prefix='')
            for i, channels in enumerate(stage_widths(image_size, width)):
                # Output (64x64 input, width 1): (128, 32, 32), (256, 16, 16), (512, 8, 8), (1024, 4, 4)
                self.features.add(conv_bn_leaky(channels, 4, 2, 1, slope, eps, batch_norm=i > 0,
                                                spectral_norm=spectral_norm, class_planes=0 if i else class_planes))
            # Output: (1, 1, 1)
            self.output = conv2d(1, 4, strides=1, padding=0, spectral_norm=spectral_norm)


class DeepConvolutionGenerator(nn.HybridBlock):
    """The discriminator mirrored: noise as a 1x1 image, up-convolutions 1024 to 128 filters (times ``width``), tanh.

    Parameters
    ----------
    channels : int
        Image channels.
    eps : float
        BatchNorm epsilon.
    activation : str
        'relu' (seed 000, DCGAN) or 'leaky': LeakyReLU 0.2 after every up-convolution, the one change
        seed 002's DCGAN makes (``--generator-activation leaky``).
    image_size : int
        64 (the seed's) or 32 (from 512 filters at 4x4).
    width : float
        Every layer's filters times this (:func:`stage_widths`); 1 is the seed's network.
    """

    def __init__(self, channels=1, eps=1e-5, activation='relu', image_size=64, width=1.0, **kwargs):
        super().__init__(**kwargs)
        first, *others = reversed(stage_widths(image_size, width))
        with self.name_scope():
            self.features = nn.HybridSequential(prefix='')
            # Output (64x64, width 1): (1024, 4, 4)
            self.features.add(deconv_bn_relu(first, 4, 1, 0, eps, activation=activation))
            for out_channels in others:
                # Output: (512, 8, 8), (256, 16, 16), (128, 32, 32)
                self.features.add(deconv_bn_relu(out_channels, 4, 2, 1, eps, activation=activation))
            # Output: (channels, 64, 64)
            self.output = OutputConv2DTranspose(channels, 4, strides=2, padding=1)

    def hybrid_forward(self, F, z):
        x = F.reshape(z, (0, -1, 1, 1))
        return F.tanh(self.output(self.features(x)))
