"""A registry of generator/discriminator pairs, and the one function that builds them.

Add an architecture by writing its two HybridBlocks and one entry in
``_ARCHITECTURES``; the training loop, export and sampling need no change.
Conditioning (a GAN that draws the class you ask for) works with every
architecture: :func:`build_networks` wraps the pair when ``num_classes > 0``.
"""
from collections import namedtuple

from .conv28 import Conv28Discriminator, Conv28Generator
from .deep_convolution import (IMAGE_SIZES as DEEP_CONVOLUTION_SIZES, DeepConvolutionDiscriminator,
                               DeepConvolutionGenerator)
from .conditioning import CONDITIONINGS, ConditionalGenerator, discriminator_takes_class, wrap_discriminator
from .layers import WEIGHT_INIT, power_iteration, spectral_norm_layers
from .lenet5 import LeNet5Discriminator, LeNet5Generator
from .infogan import CodedGenerator, CodeReadingDiscriminator, InfoGANDiscriminator, InfoGANGenerator
from .maxout import MaxoutDiscriminator, MaxoutGenerator
from .mlp import MLPDiscriminator, MLPGenerator
from .toy2d import Toy2DDiscriminator, Toy2DGenerator

# image_sizes: the sizes it is built for (None: any). output_range: the generator's last activation's
# range (tanh: -1..1, sigmoid: 0..1), which the data is scaled to.
# generator_options, discriminator_options: the settings (see NETWORK_OPTIONS)
# each network's constructor takes; a setting an architecture does not take
# must stay at its default.
# codes: the generator also takes InfoGAN's latent codes and the discriminator reads them back (infogan.py).
# points: the networks draw and judge 2-D points, not pictures (toy2d.py; output_range None: unbounded).
Architecture = namedtuple('Architecture', 'generator discriminator image_sizes output_range '
                                          'generator_options discriminator_options codes points',
                          defaults=(False, False))
TANH, SIGMOID = (-1.0, 1.0), (0.0, 1.0)

_ARCHITECTURES = {
    'lenet5': Architecture(LeNet5Generator, LeNet5Discriminator, (64,), TANH, (), ('stddev_group',)),
    'deep_convolution': Architecture(DeepConvolutionGenerator, DeepConvolutionDiscriminator, DEEP_CONVOLUTION_SIZES,
                                     TANH, ('generator_activation', 'image_size', 'width'), ('image_size', 'width')),
    'conv28': Architecture(Conv28Generator, Conv28Discriminator, (28,), TANH, (), ()),
    'mlp': Architecture(MLPGenerator, MLPDiscriminator, None, TANH, ('image_size',), ('channels',)),
    'maxout': Architecture(MaxoutGenerator, MaxoutDiscriminator, None, SIGMOID,
                           ('image_size', 'generator_batchnorm'), ()),
    'infogan': Architecture(InfoGANGenerator, InfoGANDiscriminator, (28,), TANH, (), (), codes=True),
    'toy2d': Architecture(Toy2DGenerator, Toy2DDiscriminator, None, None, (), (), points=True),
}

# Config settings that only some architectures take: {setting: (constructor argument, default)}.
NETWORK_OPTIONS = {'image_size': ('image_size', None), 'channels': ('channels', 1),
                   'generator_batchnorm': ('batch_norm', False),
                   'generator_activation': ('activation', 'relu'),
                   'stddev_group': ('stddev_group', 0),
                   'width': ('width', 1.0)}


def get_model_list():
    """Names of the registered architectures."""
    return list(_ARCHITECTURES)


def _lookup(name):
    try:
        return _ARCHITECTURES[name]
    except KeyError:
        raise ValueError(f"unknown architecture {name!r}; known: {', '.join(_ARCHITECTURES)}") from None


def supported_image_sizes(name):
    """Image sizes (height = width) the architecture ``name`` is built for (None: any)."""
    return _lookup(name).image_sizes


def default_image_size(name):
    """The image size the networks of ``name`` are built for (28, MNIST's, where any size works)."""
    return (_lookup(name).image_sizes or (28,))[0]


def output_range(name):
    """(low, high): the values of the images the generator of ``name`` draws."""
    return _lookup(name).output_range


def draws_points(name):
    """Whether the networks of ``name`` work on 2-D points (seed 004's toy) rather than pictures."""
    return _lookup(name).points


def takes_codes(name):
    """Whether the generator of ``name`` takes InfoGAN's latent codes (and its discriminator reads them)."""
    return _lookup(name).codes


def options_taken(name):
    """The NETWORK_OPTIONS settings the networks of ``name`` take."""
    arch = _lookup(name)
    return set(arch.generator_options) | set(arch.discriminator_options)


def batch_multiple(name, stddev_group=0):
    """A device's share of each batch must be a multiple of this for architecture ``name``.

    A discriminator with a minibatch standard-deviation channel compares samples
    in consecutive groups of ``stddev_group`` (0: its network's default).
    """
    arch = _lookup(name)
    if 'stddev_group' not in arch.discriminator_options:
        return 1
    return stddev_group or arch.discriminator.STDDEV_GROUP


def get_model(name, role, num_classes=0, channels=1, slope=0.2, eps=1e-5, prefix=None,
              spectral_norm=False, conditioning='concat', options=None):
    """Build the ``role`` ('generator' or 'discriminator') of architecture ``name``.

    With ``num_classes > 0`` the network is wrapped to take the class
    (:class:`ConditionalGenerator`; the discriminator as ``conditioning`` says,
    core/networks/conditioning.py). ``spectral_norm`` normalises every weight
    of the discriminator. ``options`` holds NETWORK_OPTIONS settings by name; each
    network gets those it takes.
    """
    arch = _lookup(name)
    options = options or {}
    inner_prefix = 'base_' if num_classes else prefix

    def taken(names):
        return {NETWORK_OPTIONS[n][0]: options[n] for n in names if n in options}

    if arch.codes:  # InfoGAN: noise and codes in; a logit and the codes read back out
        if num_classes:
            raise ValueError(f"{name} takes latent codes, not classes")
        if role == 'generator':
            return CodedGenerator(arch.generator(channels=channels, eps=eps, prefix='base_'), prefix=prefix)
        base = arch.discriminator(slope=slope, eps=eps, spectral_norm=spectral_norm, prefix='base_')
        return CodeReadingDiscriminator(base, slope, eps, spectral_norm, prefix=prefix)
    if role == 'generator':
        net = arch.generator(channels=channels, eps=eps, prefix=inner_prefix, **taken(arch.generator_options))
        return ConditionalGenerator(net, num_classes, prefix=prefix) if num_classes else net
    if role == 'discriminator':
        # The seed's conditioning joins class planes to the image: the first layer takes them the cheap way.
        planes = num_classes if conditioning == 'concat' else 0
        net = arch.discriminator(slope=slope, eps=eps, spectral_norm=spectral_norm, class_planes=planes,
                                 prefix=inner_prefix, **taken(arch.discriminator_options))
        if not num_classes:
            return net
        return wrap_discriminator(net, conditioning, num_classes, spectral_norm=spectral_norm, prefix=prefix)
    raise ValueError(f"role must be 'generator' or 'discriminator', not {role!r}")


def network_options(cfg):
    """The NETWORK_OPTIONS settings of config ``cfg`` that its networks take: get_model's ``options``.

    An export's sidecar records them, so that the network can be built again
    from its architecture's name (``channels`` 0, not yet known, is gray).
    """
    values = {**{name: getattr(cfg, name) for name in NETWORK_OPTIONS}, 'channels': cfg.channels or 1}
    return {name: values[name] for name in sorted(options_taken(cfg.discriminator_type))}


def model_for(cfg, role):
    """The uninitialised ``role`` network that config ``cfg`` describes (``channels`` 0, not yet known, is gray)."""
    return get_model(cfg.discriminator_type, role, num_classes=cfg.num_classes, channels=cfg.channels or 1,
                     slope=cfg.leaky_slope, eps=cfg.bn_eps, prefix=f'{role[0]}_',
                     spectral_norm=cfg.spectral_norm, conditioning=cfg.conditioning, options=network_options(cfg))


def build_networks(cfg, ctx):
    """The initialised (not yet hybridized) generator and discriminator for a config, on ``ctx`` (one or a list)."""
    nets = []
    for role in ('generator', 'discriminator'):
        net = model_for(cfg, role)
        net.initialize(WEIGHT_INIT, ctx=ctx)
        nets.append(net)
    return tuple(nets)
