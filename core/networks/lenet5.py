"""LeNet-5 discriminator of seed 000 and the generator that mirrors it (64x64 images)."""
from mxnet.gluon import nn

from .layers import Discriminator, MinibatchStddev, OutputConv2DTranspose, conv2d, dense


class LeNet5Discriminator(Discriminator):
    """Three 5x5 convolutions with max pooling, then two dense layers; outputs one logit.

    One addition to seed 000's list: a minibatch standard-deviation feature
    map joins the last pooled features (128 + 1 channels of 4x4) before the
    dense layers. Without it this pair collapses to one digit within an epoch,
    in MXNet and in PyTorch alike (docs/troubleshooting.md); it adds no layer,
    only 16 inputs (one 4x4 plane) to the 1024-unit layer's 2,048.

    Parameters
    ----------
    slope : float
        LeakyReLU slope.
    eps : float
        Unused (this network has no BatchNorm); accepted so every discriminator
        is built the same way.
    spectral_norm : bool
        Spectrally normalise every weight.
    class_planes : int
        The input ends with this many one-hot class planes (the seed's CGAN
        conditioning): the first convolution then takes them the cheap way.
    stddev_group : int
        The standard-deviation channel compares samples in consecutive groups
        of this size (0: ``STDDEV_GROUP``); a device's share of a batch must
        be a multiple of it.
    """

    # The group of the first version, and of --recipe seed: one batch of 32.
    STDDEV_GROUP = 32

    def __init__(self, slope=0.2, eps=1e-5, spectral_norm=False, class_planes=0, stddev_group=0, **kwargs):
        super().__init__(**kwargs)
        with self.name_scope():
            self.features = nn.HybridSequential(prefix='')
            for i, channels in enumerate((32, 64, 128)):
                # Output sizes for 64x64 inputs: (32, 30, 30), (64, 13, 13), (128, 4, 4)
                self.features.add(conv2d(channels, 5, spectral_norm=spectral_norm, class_planes=0 if i else class_planes),
                                  nn.LeakyReLU(slope),
                                  nn.MaxPool2D(pool_size=2, strides=2))
            self.features.add(MinibatchStddev(stddev_group or self.STDDEV_GROUP))
            # Output: (1024,)
            self.hidden = nn.HybridSequential(prefix='')
            self.hidden.add(nn.Flatten(), dense(1024, spectral_norm=spectral_norm), nn.LeakyReLU(slope))
            self.output = dense(1, spectral_norm=spectral_norm)

    def features_of(self, x):
        return self.hidden(self.features(x))


class LeNet5Generator(nn.HybridBlock):
    """The LeNet-5 discriminator run backwards: two dense layers, then three 5x5 up-convolutions.

    Each "5x5 convolution + 2x2 pooling" of the discriminator is mirrored by one
    5x5 transposed convolution of stride 2, and the channels shrink 128, 64,
    32, 1 as the discriminator's grow. BatchNorm and plain ReLU (seed tip 2)
    keep the generator trainable; tanh maps the image to [-1, 1].

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
            self.dense = nn.HybridSequential(prefix='')
            self.dense.add(nn.Dense(1024, use_bias=False), nn.BatchNorm(epsilon=eps), nn.Activation('relu'),
                           nn.Dense(128 * 8 * 8, use_bias=False))
            # BatchNorm per channel of the (128, 8, 8) map, as in DCGAN; it also
            # keeps the reshape off oneDNN's 2-D layout (a reshaped view of it
            # fails in backward in mxnet 1.9.1: "Check failed: !is_view").
            self.unflattened = nn.HybridSequential(prefix='')
            self.unflattened.add(nn.BatchNorm(epsilon=eps), nn.Activation('relu'))
            self.upsample = nn.HybridSequential(prefix='')
            for out_channels in (64, 32):
                # Output: (64, 16, 16), then (32, 32, 32)
                self.upsample.add(nn.Conv2DTranspose(out_channels, 5, strides=2, padding=2, output_padding=1,
                                                     use_bias=False),
                                  nn.BatchNorm(epsilon=eps), nn.Activation('relu'))
            # Output: (channels, 64, 64)
            self.output = OutputConv2DTranspose(channels, 5, strides=2, padding=2, output_padding=1)

    def hybrid_forward(self, F, z):
        x = self.unflattened(F.reshape(self.dense(z), (0, 128, 8, 8)))
        return F.tanh(self.output(self.upsample(x)))
