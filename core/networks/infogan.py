"""Seed 001's Model 3: the InfoGAN networks for 28x28 MNIST, with InfoGAN's latent codes (Chen et al., 2016).

- D: conv 64 4x4 stride 2 LeakyReLU; conv 128 4x4 stride 2 BatchNorm
  LeakyReLU; FC 1024 BatchNorm LeakyReLU; one logit.
- G: its input (noise and codes, 74 long with the seed's 62 noise values);
  FC 1024 BatchNorm ReLU; FC 7x7x128 BatchNorm ReLU; up-conv 64 4x4 stride 2
  BatchNorm ReLU; up-conv 1 4x4 stride 2; tanh.

Beyond the seed, the codes: one categorical code of 10 values and 2
continuous codes in [-1, 1] join the noise (:class:`CodedGenerator`), and a Q
head on D's last features (FC 128 BatchNorm LeakyReLU, then 10 logits and 2
means; :class:`CodeReadingDiscriminator`) learns to read them back from G's
images. Training adds the mutual-information term (core/training/terms/infogan.py,
``code_loss``) to both networks' losses, so G learns to make the codes
visible: with MNIST the categorical code tends to take the digit, the
continuous ones slant and width. The export keeps the codes as G's second
input (``data1``), described in the sidecar.
"""
from mxnet.gluon import nn

from ..data.codes import CODE_LENGTH
from .layers import Discriminator, OutputConv2DTranspose, conv_bn_leaky, dense, deconv_bn_relu


class InfoGANDiscriminator(Discriminator):
    """conv 64 (LeakyReLU), conv 128 (BatchNorm, LeakyReLU), FC 1024 (BatchNorm, LeakyReLU), one logit."""

    def __init__(self, slope=0.2, eps=1e-5, spectral_norm=False, class_planes=0, **kwargs):
        super().__init__(**kwargs)
        with self.name_scope():
            self.features = nn.HybridSequential(prefix='')
            # Output: (64, 14, 14), (128, 7, 7), then (1024,)
            self.features.add(conv_bn_leaky(64, 4, 2, 1, slope, eps, batch_norm=False, spectral_norm=spectral_norm,
                                            class_planes=class_planes),
                              conv_bn_leaky(128, 4, 2, 1, slope, eps, spectral_norm=spectral_norm),
                              nn.Flatten(),
                              dense(1024, use_bias=False, spectral_norm=spectral_norm),
                              nn.BatchNorm(epsilon=eps), nn.LeakyReLU(slope))
            self.output = dense(1, spectral_norm=spectral_norm)


class InfoGANGenerator(nn.HybridBlock):
    """FC 1024 and FC 7x7x128 (BatchNorm, ReLU), up-conv 64 (BatchNorm, ReLU), up-conv to the image, tanh."""

    def __init__(self, channels=1, eps=1e-5, **kwargs):
        super().__init__(**kwargs)
        with self.name_scope():
            self.dense = nn.HybridSequential(prefix='')
            self.dense.add(nn.Dense(1024, use_bias=False), nn.BatchNorm(epsilon=eps), nn.Activation('relu'),
                           nn.Dense(128 * 7 * 7, use_bias=False))
            # BatchNorm per channel after the reshape, as lenet5's generator does (mxnet 1.9.1's
            # oneDNN reshape of a 2-D BatchNorm output fails in backward).
            self.unflattened = nn.HybridSequential(prefix='')
            self.unflattened.add(nn.BatchNorm(epsilon=eps), nn.Activation('relu'))
            self.upsample = deconv_bn_relu(64, 4, 2, 1, eps)             # (64, 14, 14)
            self.output = OutputConv2DTranspose(channels, 4, strides=2, padding=1)  # (channels, 28, 28)

    def hybrid_forward(self, F, z):
        x = self.unflattened(F.reshape(self.dense(z), (0, 128, 7, 7)))
        return F.tanh(self.output(self.upsample(x)))


class CodedGenerator(nn.HybridBlock):
    """Wraps a generator: inputs noise (B, noise_dim) and codes (B, 12), joined as its input.

    The codes are the one-hot categorical code (10 values), then the two
    continuous codes in [-1, 1].
    """

    def __init__(self, generator, **kwargs):
        super().__init__(**kwargs)
        with self.name_scope():
            self.generator = generator

    def hybrid_forward(self, F, noise, codes):
        return self.generator(F.concat(noise, codes, dim=1))


class CodeReadingDiscriminator(nn.HybridBlock):
    """Wraps a discriminator with InfoGAN's Q head on its last features.

    Input: image (B, C, H, W). Outputs: one logit per image (B, 1), and
    (B, 12): 10 logits of the categorical code, then the 2 continuous codes' means.
    """

    def __init__(self, discriminator, slope=0.2, eps=1e-5, spectral_norm=False, **kwargs):
        super().__init__(**kwargs)
        with self.name_scope():
            self.discriminator = discriminator
            self.q = nn.HybridSequential(prefix='q_')
            self.q.add(dense(128, use_bias=False, spectral_norm=spectral_norm), nn.BatchNorm(epsilon=eps),
                       nn.LeakyReLU(slope), dense(CODE_LENGTH, spectral_norm=spectral_norm))

    def hybrid_forward(self, F, image):
        features = self.discriminator.features_of(image)
        return F.flatten(self.discriminator.output(features)), self.q(features)
