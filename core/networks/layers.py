"""Building blocks shared by every architecture."""
from mxnet import init
from mxnet.gluon import nn

# DCGAN's initialisation (Radford et al.): weights from N(0, 0.02).
WEIGHT_INIT = init.Normal(0.02)


class OutputConv2DTranspose(nn.HybridBlock):
    """A Conv2DTranspose for the generator's image layer, safe for one channel.

    mxnet 1.9.1's oneDNN deconvolution with a single output channel fails in
    backward ("could not create a primitive descriptor for a reorder
    primitive") whenever the data gradient is needed, which is every
    generator's last layer. Computing one spare channel and slicing it off
    avoids the bug without turning oneDNN off; the spare channel gets no
    gradient, so the maths is that of a one-channel layer.

    Parameters
    ----------
    channels : int
        Output channels (image channels).
    kernel_size, strides, padding, output_padding : int
        As for :class:`mxnet.gluon.nn.Conv2DTranspose`.
    """

    def __init__(self, channels, kernel_size, strides=1, padding=0, output_padding=0, **kwargs):
        super().__init__(**kwargs)
        self._channels = channels
        with self.name_scope():
            self.deconv = nn.Conv2DTranspose(max(channels, 2), kernel_size, strides, padding,
                                             output_padding=output_padding)

    def hybrid_forward(self, F, x):
        x = self.deconv(x)
        if self._channels == 1:
            x = F.slice_axis(x, axis=1, begin=0, end=1)
        return x


class MinibatchStddev(nn.HybridBlock):
    """Appends one feature map: how much the samples of a small group differ (Karras et al., 2018).

    The batch is cut into consecutive groups of ``group_size``; for each group
    the standard deviation over its samples is averaged over all features and
    pixels, and that number becomes an extra constant channel of each member.
    A generator that draws one image for every noise gets a zero there, which
    the discriminator learns to reject: the cure for mode collapse used here
    for the LeNet-5 pair. Groups of consecutive samples keep the result the
    same when a batch is split across devices in multiples of the group.

    Input (N, C, H, W) with N a multiple of ``group_size``; output (N, C + 1, H, W).
    """

    def __init__(self, group_size=4, eps=1e-8, **kwargs):
        super().__init__(**kwargs)
        self._group = group_size
        self._eps = eps

    def hybrid_forward(self, F, x):
        groups = F.reshape(x, shape=(-4, -1, self._group, -2))                   # (N/G, G, C, H, W)
        centred = F.broadcast_sub(groups, F.mean(groups, axis=1, keepdims=True))
        std = F.sqrt(F.mean(F.square(centred), axis=1) + self._eps)               # (N/G, C, H, W)
        std = F.expand_dims(F.mean(std, axis=(1, 2, 3), keepdims=True), axis=1)  # (N/G, 1, 1, 1, 1)
        plane = F.slice_axis(groups, axis=2, begin=0, end=1)                      # (N/G, G, 1, H, W)
        std = F.reshape(F.broadcast_like(std, plane), shape=(-3, -2))            # (N, 1, H, W)
        return F.concat(x, std, dim=1)


def conv_bn_leaky(channels, kernel_size, strides, padding, slope, eps, batch_norm=True):
    """Conv2D [-> BatchNorm] -> LeakyReLU, as a HybridSequential."""
    block = nn.HybridSequential(prefix='')
    block.add(nn.Conv2D(channels, kernel_size, strides, padding, use_bias=not batch_norm))
    if batch_norm:
        block.add(nn.BatchNorm(epsilon=eps))
    block.add(nn.LeakyReLU(slope))
    return block


def deconv_bn_relu(channels, kernel_size, strides, padding, eps, output_padding=0):
    """Conv2DTranspose -> BatchNorm -> ReLU (seed tip 2: plain ReLU in generators)."""
    block = nn.HybridSequential(prefix='')
    block.add(nn.Conv2DTranspose(channels, kernel_size, strides, padding,
                                 output_padding=output_padding, use_bias=False),
              nn.BatchNorm(epsilon=eps),
              nn.Activation('relu'))
    return block


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
    """Wraps any discriminator of this package so that it judges (image, class) pairs.

    The class becomes ``num_classes`` constant planes (one-hot) joined to the
    image channels, so the wrapped network sees a deeper image.

    Inputs: image (B, C, H, W) and class (B,) as numbers 0..num_classes-1.
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
