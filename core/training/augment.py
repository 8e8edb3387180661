"""What the discriminator's inputs go through: :class:`AugmentPipe`, and its one augmentation so far, translation.

The pipe applies every augmentation the config turns on, in the order of
``AUGMENTATIONS``, to each batch D sees, real and generated, in D's update and
in G's. A new augmentation is one class with ``wanted(cfg)``,
``start_iteration(iteration)`` and ``__call__(images)``, and one line there.

Translation is differentiable (DiffAugment, Zhao et al. 2020). Each
iteration draws one shift (dy, dx) of at most ``translate`` x the image size;
real and generated images are moved by it, the uncovered strip filled with
the background (-1), before D sees them, in D's update and in G's. G's images
are moved inside the recorded graph, so G learns through the shift.

Why lenet5 needs it: its discriminator's valid 5x5 convolutions and its
floor-rounding poolings (9 -> 4) leave the last 4 rows and columns of a 64x64
image outside every receptive field. D cannot see them, so G's gradient there
is zero and G paints whatever it likes: the white frames along the bottom and
right of its samples. Moving the images moves those pixels into view on most
iterations. Both kinds of image move alike, so D cannot tell them apart by
the shift.
"""
import numpy as np
import mxnet as mx

BACKGROUND = -1.0  # the low end of tanh's range: MNIST's black (a sigmoid generator's images pass 0)


def iteration_shift(seed, iteration, limit):
    """The (dy, dx) shift in pixels of iteration ``iteration``, each in [-limit, limit].

    A function of the run's seed and the iteration alone, so a resumed run
    draws the shifts that an uninterrupted one would.
    """
    if limit <= 0:
        return 0, 0
    rng = np.random.default_rng([seed, iteration, 0x5EED])
    dy, dx = rng.integers(-limit, limit + 1, size=2)
    return int(dy), int(dx)


def shift_limit(fraction, image_size):
    """The largest shift in pixels for a ``--translate`` fraction of the image size."""
    return int(round(fraction * image_size))


def translate(images, dy, dx, fill=BACKGROUND):
    """``images`` (N, C, H, W) moved down by ``dy`` and right by ``dx`` pixels (negative: up, left).

    Pixels moved out are dropped; the uncovered strip takes ``fill``. Pad and
    slice are both differentiable, so gradients flow back to the unmoved pixels.
    """
    if not dy and not dx:
        return images
    pad = max(abs(dy), abs(dx))
    height, width = images.shape[2:]
    padded = mx.nd.pad(images, mode='constant', constant_value=fill, pad_width=(0, 0, 0, 0, pad, pad, pad, pad))
    top, left = pad - dy, pad - dx
    return mx.nd.slice(padded, begin=(None, None, top, left), end=(None, None, top + height, left + width))


class Translation:
    """``--translate``: every image D sees this iteration moves by one shift, drawn from the seed and the iteration."""

    @staticmethod
    def wanted(cfg):
        return bool(cfg.translate)

    def __init__(self, cfg, fill=BACKGROUND):
        self.seed, self.limit, self.fill = cfg.seed, shift_limit(cfg.translate, cfg.image_size), fill
        self.shift = (0, 0)

    def start_iteration(self, iteration):
        self.shift = iteration_shift(self.seed, iteration, self.limit)

    def __call__(self, images):
        return translate(images, *self.shift, fill=self.fill)


# The augmentations, in the order they apply. Each decides from the config whether it is on.
AUGMENTATIONS = {
    'translate': Translation,
}


class AugmentPipe:
    """Every augmentation config ``cfg`` turns on, applied in turn to a batch D sees (none: the images as they are).

    ``fill``: the value of uncovered pixels, the low end of the images' range.
    """

    def __init__(self, cfg, fill=BACKGROUND):
        self.augmentations = [kind(cfg, fill) for kind in AUGMENTATIONS.values() if kind.wanted(cfg)]

    def start_iteration(self, iteration):
        """Draw this iteration's parameters (the same for every batch D sees in it)."""
        for augmentation in self.augmentations:
            augmentation.start_iteration(iteration)

    def __call__(self, images):
        for augmentation in self.augmentations:
            images = augmentation(images)
        return images
