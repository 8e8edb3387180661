"""A registry of generator/discriminator pairs, and the one function that builds them.

Add an architecture by writing its two HybridBlocks and one entry in
``_ARCHITECTURES``; the training loop, export and sampling need no change.
Conditioning (a GAN that draws the class you ask for) works with every
architecture: :func:`build_networks` wraps the pair when ``num_classes > 0``.
"""
from collections import namedtuple

from .conv28 import Conv28Discriminator, Conv28Generator
from .deep_convolution import DeepConvolutionDiscriminator, DeepConvolutionGenerator
from .layers import WEIGHT_INIT, ConditionalDiscriminator, ConditionalGenerator
from .lenet5 import LeNet5Discriminator, LeNet5Generator

# batch_multiple: a device's share of a batch must be a multiple of it (the
# discriminator compares samples in groups of that size).
Architecture = namedtuple('Architecture', 'generator discriminator image_sizes batch_multiple')

_ARCHITECTURES = {
    'lenet5': Architecture(LeNet5Generator, LeNet5Discriminator, (64,), LeNet5Discriminator.GROUP_SIZE),
    'deep_convolution': Architecture(DeepConvolutionGenerator, DeepConvolutionDiscriminator, (64,), 1),
    'conv28': Architecture(Conv28Generator, Conv28Discriminator, (28,), 1),
}


def get_model_list():
    """Names of the registered architectures."""
    return list(_ARCHITECTURES)


def _lookup(name):
    try:
        return _ARCHITECTURES[name]
    except KeyError:
        raise ValueError(f"unknown architecture {name!r}; known: {', '.join(_ARCHITECTURES)}") from None


def supported_image_sizes(name):
    """Image sizes (height = width) the architecture ``name`` is built for."""
    return _lookup(name).image_sizes


def batch_multiple(name):
    """A device's share of each batch must be a multiple of this for architecture ``name``."""
    return _lookup(name).batch_multiple


def get_model(name, role, num_classes=0, channels=1, slope=0.2, eps=1e-5, prefix=None):
    """Build the ``role`` ('generator' or 'discriminator') of architecture ``name``.

    With ``num_classes > 0`` the network is wrapped to take the class as a
    second input (see :class:`ConditionalGenerator`).
    """
    arch = _lookup(name)
    if role == 'generator':
        net = arch.generator(channels=channels, eps=eps, prefix='base_' if num_classes else prefix)
        return ConditionalGenerator(net, num_classes, prefix=prefix) if num_classes else net
    if role == 'discriminator':
        net = arch.discriminator(slope=slope, eps=eps, prefix='base_' if num_classes else prefix)
        return ConditionalDiscriminator(net, num_classes, prefix=prefix) if num_classes else net
    raise ValueError(f"role must be 'generator' or 'discriminator', not {role!r}")


def build_networks(cfg, ctx, channels=1):
    """The initialised (not yet hybridized) generator and discriminator for a config, on ``ctx`` (one or a list)."""
    nets = []
    for role in ('generator', 'discriminator'):
        net = get_model(cfg.discriminator_type, role, num_classes=cfg.num_classes, channels=channels,
                        slope=cfg.leaky_slope, eps=cfg.bn_eps, prefix=f'{role[0]}_')
        net.initialize(WEIGHT_INIT, ctx=ctx)
        nets.append(net)
    return tuple(nets)
