"""Building blocks shared by every architecture."""
import mxnet as mx
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
        # Reshapes with reverse=True (0 copies the input's dims counted from the right): ONNX export
        # supports them, and not mxnet's split (-4) and merge (-3) codes.
        groups = F.reshape(x, shape=(-1, self._group, 0, 0, 0), reverse=True)   # (N/G, G, C, H, W)
        centred = F.broadcast_sub(groups, F.mean(groups, axis=1, keepdims=True))
        std = F.sqrt(F.mean(F.square(centred), axis=1) + self._eps)               # (N/G, C, H, W)
        std = F.expand_dims(F.mean(std, axis=(1, 2, 3), keepdims=True), axis=1)  # (N/G, 1, 1, 1, 1)
        plane = F.slice_axis(groups, axis=2, begin=0, end=1)                      # (N/G, G, 1, H, W)
        std = F.reshape(F.broadcast_like(std, plane), shape=(-1, 0, 0, 0), reverse=True)  # (N, 1, H, W)
        return F.concat(x, std, dim=1)


class Discriminator(nn.HybridBlock):
    """The shape every discriminator here shares: ``features_of(x)``, then one weighted layer ``output``.

    Subclasses build ``features`` (and may override :meth:`features_of`) and
    ``output``. The split is what the conditioning designs need: a projection
    discriminator takes an inner product with the features, an auxiliary
    classifier reads them (core/networks/conditioning.py).
    """

    def features_of(self, x):
        return self.features(x)

    def hybrid_forward(self, F, x):
        return F.flatten(self.output(self.features_of(x)))  # (N, 1): one logit per image


def conv_bn_leaky(channels, kernel_size, strides, padding, slope, eps, batch_norm=True, spectral_norm=False,
                  class_planes=0):
    """Conv2D [-> BatchNorm] -> LeakyReLU, as a HybridSequential (``class_planes``: see :func:`conv2d`)."""
    block = nn.HybridSequential(prefix='')
    block.add(conv2d(channels, kernel_size, strides, padding, use_bias=not batch_norm, spectral_norm=spectral_norm,
                     class_planes=class_planes))
    if batch_norm:
        block.add(nn.BatchNorm(epsilon=eps))
    block.add(nn.LeakyReLU(slope))
    return block


def deconv_bn_relu(channels, kernel_size, strides, padding, eps, output_padding=0, activation='relu', slope=0.2):
    """Conv2DTranspose -> BatchNorm -> ReLU (seed tip 2: plain ReLU in generators; ``activation='leaky'``: LeakyReLU)."""
    block = nn.HybridSequential(prefix='')
    block.add(nn.Conv2DTranspose(channels, kernel_size, strides, padding,
                                 output_padding=output_padding, use_bias=False),
              nn.BatchNorm(epsilon=eps),
              nn.LeakyReLU(slope) if activation == 'leaky' else nn.Activation('relu'))
    return block


# --- Spectral normalization (Miyato et al., 2018) --------------------------------------

def _spectrally_normalized(F, weight, u, ndim):
    """``weight`` divided by its largest singular value, estimated as ||W^T u||.

    ``u`` is the left singular vector that :func:`power_iteration` refines
    outside the graph after every update; here it is a constant, so the
    gradient that reaches W is the paper's (through sigma = u^T W v with u and
    v held fixed). elemwise_div rather than a broadcast, so that shape
    inference can run backwards from the layer to a weight whose input size is
    not known yet (deferred initialisation).
    """
    sigma = F.norm(F.dot(u, F.reshape(weight, shape=(0, -1))))   # (1,)
    return F.elemwise_div(weight, F.broadcast_like(F.reshape(sigma, shape=(1,) * ndim), weight))


class _SpectralNorm:
    """Mixin for a Gluon layer: a parameter ``u`` (no gradient) and the weight divided by its spectral norm.

    The normalised weight is computed inside the graph, so a hybridized or
    exported network computes it too; plain MXNet needs nothing of ours.
    Subclasses name the weight's dimensions (``_WEIGHT_NDIM``).
    """

    _WEIGHT_NDIM = None

    def __init__(self, units, *args, **kwargs):
        super().__init__(units, *args, **kwargs)
        self.u = self.params.get('u', shape=(1, units), init=init.Normal(1.0), differentiable=False)

    def hybrid_forward(self, F, x, weight, bias=None, u=None):
        return super().hybrid_forward(F, x, _spectrally_normalized(F, weight, u, self._WEIGHT_NDIM), bias)


class SNConv2D(_SpectralNorm, nn.Conv2D):
    """:class:`mxnet.gluon.nn.Conv2D` whose weight is spectrally normalised (same arguments)."""

    _WEIGHT_NDIM = 4

    def _alias(self):
        return 'conv'  # parameters named conv0_weight, ... as for a plain Conv2D


class SNDense(_SpectralNorm, nn.Dense):
    """:class:`mxnet.gluon.nn.Dense` whose weight is spectrally normalised (same arguments)."""

    _WEIGHT_NDIM = 2

    def _alias(self):
        return 'dense'


class ClassPlaneConv2D(nn.Conv2D):
    """A Conv2D whose input ends with ``class_planes`` one-hot constant planes: the seed's CGAN input.

    The planes add, for class k, the same map to every sample of that class:
    the convolution of the one-hot planes of k. So this layer convolves only
    the image channels, convolves the planes once per class (a batch of
    ``class_planes``), and adds each sample's class map: the same maths as one
    convolution over the joined input (a one-hot dot product picks a map
    exactly), for about a tenth of the work when there are ten classes.
    Parameters and their shapes are those of the plain layer over the joined input.
    """

    def __init__(self, channels, *args, class_planes=10, **kwargs):
        super().__init__(channels, *args, **kwargs)
        self._planes = class_planes

    def _alias(self):
        return 'conv'

    def hybrid_forward(self, F, x, weight, bias=None):
        k = self._planes
        # The weight is only sliced below, which leaves its input size unknown
        # to shape inference; adding zeros of the shape (channels, input
        # channels, kernel) read off x states it, so it is still initialised
        # when first used, in the order of the plain layer (the seed recipe's
        # weights stay the same).
        kernel = F.slice(x, begin=(0, 0, 0, 0), end=(1, None) + self._kwargs['kernel'])
        weight = F.elemwise_add(weight, F.zeros_like(F.broadcast_axis(kernel, axis=0, size=self._channels)))
        image = F.slice_axis(x, axis=1, begin=0, end=-k)
        planes = F.slice_axis(x, axis=1, begin=-k, end=None)
        out = super().hybrid_forward(F, image, F.slice_axis(weight, axis=1, begin=0, end=-k), bias)
        # One sample per class: the identity's rows as planes of the input's size. The identity is
        # built from arange and a comparison, not F.eye, because ONNX export has no conversion for eye.
        classes = F.arange(k)
        eye = F.broadcast_equal(F.reshape(classes, shape=(k, 1)), F.reshape(classes, shape=(1, k)))
        identity = F.broadcast_like(F.reshape(eye, shape=(k, k, 1, 1)), F.slice_axis(planes, axis=0, begin=0, end=1),
                                    lhs_axes=(2, 3), rhs_axes=(2, 3))
        class_maps = F.Convolution(identity, F.slice_axis(weight, axis=1, begin=-k, end=None), no_bias=True,
                                   **{key: v for key, v in self._kwargs.items() if key != 'no_bias'})
        # The class of each sample, read off its planes (pixel 0, 0), picks its map.
        one_hot = F.reshape(F.slice(planes, begin=(None, None, 0, 0), end=(None, None, 1, 1)), shape=(0, -1))
        offsets = F.dot(one_hot, F.reshape(class_maps, shape=(k, -1)))
        return out + F.reshape_like(offsets, out)


class SNClassPlaneConv2D(SNConv2D, ClassPlaneConv2D):
    """:class:`ClassPlaneConv2D` with a spectrally normalised weight (normalised as one matrix)."""


def conv2d(channels, kernel_size, strides=1, padding=0, use_bias=True, spectral_norm=False, class_planes=0):
    """A Conv2D, spectrally normalised when asked.

    ``class_planes > 0``: the input ends with that many one-hot class planes
    (:class:`ClassPlaneConv2D`: the same maths for less work).
    """
    if class_planes:
        layer = SNClassPlaneConv2D if spectral_norm else ClassPlaneConv2D
        return layer(channels, kernel_size, strides, padding, use_bias=use_bias, class_planes=class_planes)
    return (SNConv2D if spectral_norm else nn.Conv2D)(channels, kernel_size, strides, padding, use_bias=use_bias)


def dense(units, use_bias=True, spectral_norm=False):
    """A Dense layer, spectrally normalised when asked."""
    return (SNDense if spectral_norm else nn.Dense)(units, use_bias=use_bias)


def spectral_norm_layers(net):
    """The spectrally normalised layers inside ``net``."""
    found = []
    net.apply(lambda block: found.append(block) if isinstance(block, _SpectralNorm) else None)
    return found


def power_iteration(net, steps=1):
    """Refine every spectrally normalised layer's ``u`` from its current weight (outside the graph).

    One step per update, as in the paper: v = W^T u / |W^T u|, u = W v / |W v|.
    The weight is the same on every device, so ``u`` is computed once and set everywhere. A layer whose
    weight gets no gradient (frozen by --freeze-d) keeps its ``u``, so its normalised weight stays fixed too.
    """
    for layer in spectral_norm_layers(net):
        if layer.weight.grad_req == 'null':
            continue
        ctx = layer.u.list_ctx()[0]
        weight = layer.weight.data(ctx)
        matrix = weight.reshape((weight.shape[0], -1))
        u = layer.u.data(ctx)
        for _ in range(steps):
            v = mx.nd.L2Normalization(mx.nd.dot(u, matrix))
            u = mx.nd.L2Normalization(mx.nd.dot(v, matrix, transpose_b=True))
        layer.u.set_data(u)
