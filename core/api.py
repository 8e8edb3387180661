"""A Python API over the scripts: train a run, load its export, draw and explore images (docs/explore.md).

    from core.api import load_generator, train
    run = train(data_dir='mnist/', epochs=1, output_dir='runs/mine')
    generator = load_generator(run)                       # or an export folder; runtime='onnx': no MXNet
    images = generator.sample(16, seed=0, truncation=0.8)  # uint8 (16, H, W, C)
    rows = generator.interpolate(8, count=4, seed=0)       # uint8 (4, 8, H, W, C)

Sampling imports no training code, as test.py does not; errors are
:class:`core.errors.UserError` with the one line the scripts would print.
"""
import os

import numpy as np

from .data.codes import draw_codes
from .data.imageset import to_uint8
from .errors import UserError
from .explore_command import check_truncation, code_walk, interpolation_images, morph_walk, noise_walk

RUNTIMES = ('mxnet', 'onnx')


def load_generator(path, runtime='mxnet', model=None):
    """The generator exported in ``path``: an export folder, or the run folder of a run trained with --output-dir.

    ``runtime`` 'mxnet' runs the symbol/params pair with plain MXNet, 'onnx' the
    ONNX file with onnxruntime. ``model`` picks an export by name (e.g.
    'lenet5'); by default the newest generator in the folder.
    """
    from .sampling import ExportedGenerator, OnnxGenerator, find_generator

    if runtime not in RUNTIMES:
        raise UserError(f"runtime {runtime!r} is not one of {', '.join(RUNTIMES)}")
    loader = OnnxGenerator if runtime == 'onnx' else ExportedGenerator
    return Generator(loader(find_generator(path, model)))


def _check_walk(steps, truncation):
    check_truncation(truncation, 'truncation')
    if steps < 2:
        raise UserError(f"steps must be at least 2 (both ends), got {steps}")


def _random_seed(seed):
    return int(np.random.default_rng().integers(2 ** 31)) if seed is None else seed


class Generator:
    """An exported generator that draws uint8 images (N, H, W, C), C being 1 (gray) or 3 (colour).

    Attributes: ``name``, ``conditional``, ``num_classes`` (0 if unconditional),
    ``class_names`` (a folder's or CIFAR-10's, else None), ``image_size``,
    ``channels``, ``noise_dim``, ``info`` (the export's sidecar) and ``exported``
    (the :class:`core.sampling.ExportedGenerator` or ``OnnxGenerator`` beneath, for float images).
    """

    def __init__(self, exported):
        if exported.info.get('points'):
            raise UserError(f"{exported.info['name']!r} draws 2-D points, not images: use its .exported.generate")
        self.exported = exported
        self.info = exported.info
        self.name = self.info['name']
        self.conditional = exported.conditional
        self.num_classes = exported.num_classes
        self.class_names = self.info.get('class_names')
        self.image_size = int(self.info['image_size'])
        self.channels = int(self.info.get('image_channels', 1))
        self.noise_dim = int(self.info['noise_dim'])

    def __repr__(self):
        kind = f'conditional, {self.num_classes} classes' if self.conditional else 'unconditional'
        return f"<Generator {self.name!r}: {kind}, {self.image_size}x{self.image_size}x{self.channels}>"

    def sample(self, n, classes=None, seed=None, truncation=1.0):
        """``n`` images, uint8 (n, H, W, C).

        ``classes`` (conditional generators): one class for all, or one per
        image; by default the classes in turn (0, 1, ..., 0, ...). ``seed``
        fixes the noise (None: fresh noise); ``truncation`` in [0, 1] pulls it
        toward its centre (1: not at all). InfoGAN exports draw random codes of the same seed.
        """
        check_truncation(truncation, 'truncation')
        seed = _random_seed(seed)
        noise = self.exported.noise(n, seed, truncation)
        labels = None
        if self.conditional:
            labels = self._classes(classes, n)
        elif self.exported.codes:
            labels = draw_codes(np.random.default_rng([seed, 1]), n)
        return self._pictures(self.exported.generate(noise, labels))

    def interpolate(self, steps, count=1, seed=None, truncation=1.0, path=None, classes=None):
        """Rows that go in ``steps`` steps between two noise vectors: uint8 (rows, steps, H, W, C).

        ``count`` pairs of noise vectors, each row from one to the other along
        ``path`` ('slerp' or 'lerp'; default: slerp for Gaussian noise, lerp for
        uniform noise). A conditional generator draws each class of ``classes``
        (default: all) with the same pairs, so rows = len(classes) * count,
        class by class. InfoGAN exports move their two continuous codes instead,
        the noise and category (row mod 10) fixed.
        """
        _check_walk(steps, truncation)
        seed = _random_seed(seed)
        if self.exported.codes:
            walk = code_walk(self.exported, count, 2, seed, truncation, path)
        else:
            digits = None
            if self.conditional:
                digits = list(range(self.num_classes)) if classes is None else \
                    [int(c) for c in self._classes(classes, np.size(classes))]
            walk = noise_walk(self.exported, count, 2, seed, truncation, path, digits)
        return self._rows(interpolation_images(walk, steps), steps)

    def morph(self, start, end, steps, count=1, seed=None, truncation=1.0):
        """Rows that keep a noise vector and blend the class from ``start`` to ``end``: uint8 (count, steps, H, W, C).

        The class input is a linear blend of the two one-hot vectors (the
        export's class-number input is rewired to take it; with runtime 'onnx'
        that needs the onnx package).
        """
        _check_walk(steps, truncation)
        if not self.conditional:
            raise UserError(f"{self.name!r} is unconditional: it has no classes to morph between")
        start, end = (int(c) for c in self._classes([start, end], 2))
        walk = morph_walk(self.exported, count, start, end, _random_seed(seed), truncation)
        return self._rows(interpolation_images(walk, steps), steps)

    def _classes(self, classes, n):
        """float32 class numbers for ``n`` images, each checked against the generator's classes."""
        if classes is None:
            return (np.arange(n) % self.num_classes).astype(np.float32)
        wanted = np.broadcast_to(np.asarray(classes), (n,)) if np.ndim(classes) == 0 else np.asarray(classes)
        if len(wanted) != n:
            raise UserError(f"classes: give one class or one per image ({n}), got {len(wanted)}")
        bad = [c for c in wanted.tolist() if c not in range(self.num_classes)]
        if bad:
            raise UserError(f"classes: {bad[0]!r} is not a class of this generator (0-{self.num_classes - 1})")
        return wanted.astype(np.float32)

    def _pictures(self, images):
        """(N, C, H, W) floats in the generator's range -> uint8 (N, H, W, C)."""
        return to_uint8(images, self.exported.value_range).transpose(0, 2, 3, 1)

    def _rows(self, images, steps):
        pictures = self._pictures(images)
        return pictures.reshape((-1, steps) + pictures.shape[1:])


def train(defaults=None, config=None, resume=False, **settings):
    """Train a run as train.py does; return its run folder (an absolute path), which :func:`load_generator` takes.

    ``settings`` are train.py's options as keywords (``epochs=1``,
    ``data_dir='mnist/'``, ``output_dir='runs/mine'``); ``config`` a settings
    file they override; ``defaults`` the GANConfig to start from (default
    train.py's; CGAN/config.py's ``cgan_config()`` for the CGAN's). Bad values
    raise UserError with the line train.py prints. A run stopped by Ctrl-C
    raises KeyboardInterrupt after its checkpoint is written (``resume=True`` continues it).
    """
    from .config import GANConfig
    from .config_file import config_from_settings
    from .training import run_training

    cfg, explicit = config_from_settings(settings, defaults or GANConfig(), config)
    status, run, _ = run_training(cfg, explicit, resume=resume)
    if status == 'stopped':
        raise KeyboardInterrupt(f"training stopped; its checkpoint is in {run.folder}")
    return os.path.abspath(run.folder)
