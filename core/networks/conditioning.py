"""Conditioning: wrappers that make any generator draw, and any discriminator judge, a requested class.

One generator wrapper and three discriminator designs, chosen by the config's
``conditioning``:

- ``concat``: the seed's CGAN: the class as ten constant planes joined to the image;
- ``projection``: Miyato and Koyama (2018): the logit plus the inner product of
  the discriminator's last features with a learned vector per class;
- ``acgan``: Odena et al. (2017): the discriminator sees only the image and
  also predicts its class; the training step adds a classification loss.

The generator is the same for all three, so an exported generator always has
the two inputs (noise, class).
"""
from mxnet.gluon import nn

from .layers import dense

CONDITIONINGS = ('concat', 'projection', 'acgan')


class ConditionalGenerator(nn.HybridBlock):
    """Wraps any generator of this package so that it draws a requested class.

    The class is one-hot encoded and joined to the noise, so the wrapped
    network simply sees a longer noise vector.

    Inputs: noise (B, noise_dim) and class (B,) as numbers 0..num_classes-1.
    """

    def __init__(self, generator, num_classes, **kwargs):
        super().__init__(**kwargs)
        self._num_classes = num_classes
        with self.name_scope():
            self.generator = generator

    def hybrid_forward(self, F, noise, label):
        one_hot = F.one_hot(label, depth=self._num_classes)
        joined = F.concat(noise, one_hot, dim=1)
        return self.generator(joined)


class ConditionalDiscriminator(nn.HybridBlock):
    """The seed's conditioning: the class becomes ``num_classes`` constant one-hot planes joined to the image.

    Inputs: image (B, C, H, W) and class (B,) as numbers 0..num_classes-1.
    Output: one logit per image, (B, 1).
    """

    def __init__(self, discriminator, num_classes, **kwargs):
        super().__init__(**kwargs)
        self._num_classes = num_classes
        with self.name_scope():
            self.discriminator = discriminator

    def hybrid_forward(self, F, image, label):
        planes = F.reshape(F.one_hot(label, depth=self._num_classes), (0, 0, 1, 1))
        planes = F.broadcast_like(planes, image, lhs_axes=(2, 3), rhs_axes=(2, 3))
        return self.discriminator(F.concat(image, planes, dim=1))


class ProjectionDiscriminator(nn.HybridBlock):
    """A projection discriminator (Miyato and Koyama, 2018): logit(x) + <e_y, features(x)>.

    The wrapped network sees the image alone; ``e_y`` is row y of a learned
    (num_classes, features) matrix, kept as a bias-free Dense layer whose output
    for class y is picked, so its input size is inferred like any layer's.

    Inputs: image (B, C, H, W) and class (B,). Output: one logit per image, (B, 1).
    """

    def __init__(self, discriminator, num_classes, spectral_norm=False, **kwargs):
        super().__init__(**kwargs)
        with self.name_scope():
            self.discriminator = discriminator
            self.embedding = dense(num_classes, use_bias=False, spectral_norm=spectral_norm)
        self._num_classes = num_classes

    def hybrid_forward(self, F, image, label):
        features = self.discriminator.features_of(image)
        logit = F.flatten(self.discriminator.output(features))
        # <e_y, features>: a one-hot mask and a sum pick row y exactly (F.pick has no ONNX conversion).
        mask = F.one_hot(label, depth=self._num_classes)
        return logit + F.sum(self.embedding(features) * mask, axis=1, keepdims=True)


class AuxiliaryClassifierDiscriminator(nn.HybridBlock):
    """An AC-GAN discriminator (Odena et al., 2017): the image alone in, a logit and class scores out.

    The class head reads the same features as the real/fake logit.

    Input: image (B, C, H, W). Outputs: one logit per image (B, 1) and class logits (B, num_classes).
    """

    def __init__(self, discriminator, num_classes, spectral_norm=False, **kwargs):
        super().__init__(**kwargs)
        with self.name_scope():
            self.discriminator = discriminator
            self.classifier = dense(num_classes, spectral_norm=spectral_norm)

    def hybrid_forward(self, F, image):
        features = self.discriminator.features_of(image)
        return F.flatten(self.discriminator.output(features)), self.classifier(features)


def wrap_discriminator(discriminator, conditioning, num_classes, spectral_norm=False, **kwargs):
    """The conditional discriminator of design ``conditioning`` around a base discriminator."""
    if conditioning == 'concat':
        return ConditionalDiscriminator(discriminator, num_classes, **kwargs)
    if conditioning == 'projection':
        return ProjectionDiscriminator(discriminator, num_classes, spectral_norm, **kwargs)
    if conditioning == 'acgan':
        return AuxiliaryClassifierDiscriminator(discriminator, num_classes, spectral_norm, **kwargs)
    raise ValueError(f"unknown conditioning {conditioning!r}; known: {', '.join(CONDITIONINGS)}")


def discriminator_takes_class(conditioning):
    """Whether the conditional discriminator has the class as its second input."""
    return conditioning != 'acgan'
