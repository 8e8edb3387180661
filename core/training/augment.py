"""What the discriminator's inputs go through: :class:`AugmentPipe`, its augmentations, and their adaptive probability.

The pipe applies every augmentation the config turns on, in the order of
``AUGMENTATIONS`` (DiffAugment's: colour, translation, cutout), to each batch
D sees, real and generated, in D's update and in G's. G's images go through
it inside the recorded graph, so G learns through the augmentation. Every
augmentation is differentiable (DiffAugment, Zhao et al. 2020).

- ``translation``: every image moves by one shift (dy, dx) per iteration, of at
  most ``--translate`` x the image size (DiffAugment's 1/8 when ``--translate``
  is 0), the uncovered strip filled with the background.
- ``colour``: per image, a brightness shift, a saturation factor and a
  contrast factor (DiffAugment's ``rand_brightness``, ``rand_saturation``,
  ``rand_contrast``; saturation leaves gray images as they are).
- ``cutout``: per image, a square of half the image's size filled with the
  background (DiffAugment's ``rand_cutout``, which fills with 0).

``--translate`` alone turns translation on for every image (the tuned recipe's
``lenet5``). The policies named in ``--augment`` each apply to each image with
probability ``--augment-probability`` p: a number, or ``auto``, where p adapts
as in ADA (Karras et al. 2020; :class:`AdaptiveProbability`).

Every draw (shifts, factors, squares, which images) is a function of the
run's seed, the iteration and the augmentation alone, so a resumed run draws
what an uninterrupted one would. Image i of every batch D sees in one
iteration gets the same draws (the batch's row i: on several devices or
workers, each share is told which rows it holds).

A new augmentation is one class with ``wanted(cfg)``, ``__init__(cfg,
value_range)``, ``start_iteration(iteration)`` (draw the parameters of the
whole batch) and ``__call__(images, first)`` (``images`` are the batch's rows
from ``first`` on), and one line in ``AUGMENTATIONS``.

Why lenet5 needs translation: its discriminator's valid 5x5 convolutions and
its floor-rounding poolings (9 -> 4) leave the last 4 rows and columns of a
64x64 image outside every receptive field. D cannot see them, so G's gradient
there is zero and G paints whatever it likes: the white frames along the
bottom and right of its samples. Moving the images moves those pixels into
view on most iterations. Both kinds of image move alike, so D cannot tell them
apart by the shift.
"""
import numpy as np
import mxnet as mx

BACKGROUND = -1.0  # the low end of tanh's range: MNIST's black (a sigmoid generator's images pass 0)
DEFAULT_TRANSLATE = 0.125  # DiffAugment's: `--augment translation` with --translate 0 shifts up to 1/8 of the size
CUTOUT_FRACTION = 0.5  # DiffAugment's: the cut square's side, a fraction of the image's

# --augment-probability auto (ADA, Karras et al. 2020): every ADA_INTERVAL iterations, p moves by
# sign(r_t - ADA_TARGET) x (real images D judged since the last move) / ADA_IMAGES, clipped to [0, 1]; r_t is the
# mean sign of D's logits on those real images (1: D calls every real image real, a sign of overfitting).
ADA_TARGET = 0.6  # ADA's
ADA_INTERVAL = 4  # iterations between adjustments (ADA's 4 minibatches)
ADA_IMAGES = 20_000  # p can go from 0 to 1 in this many real images (ADA: 500k; short CPU runs need faster)


# --- Translation -----------------------------------------------------------------------

def iteration_shift(seed, iteration, limit):
    """The (dy, dx) shift in pixels of iteration ``iteration``, each in [-limit, limit].

    A function of the run's seed and the iteration alone, so a resumed run
    draws the shifts that an uninterrupted one would.
    """
    if limit <= 0:
        return 0, 0
    rng = np.random.default_rng([seed, iteration, Translation.key])
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
    """``--translate`` or ``--augment translation``: the images move by one shift per iteration."""

    key = 0x5EED  # this augmentation's stream of random numbers

    @staticmethod
    def wanted(cfg):
        return bool(cfg.translate) or 'translation' in cfg.augmentations()

    def __init__(self, cfg, value_range):
        self.seed, self.fill = cfg.seed, value_range[0]
        self.limit = shift_limit(cfg.translate or DEFAULT_TRANSLATE, cfg.image_size)
        self.shift = (0, 0)

    def start_iteration(self, iteration):
        self.shift = iteration_shift(self.seed, iteration, self.limit)

    def __call__(self, images, first=0):
        return translate(images, *self.shift, fill=self.fill)


# --- Colour ------------------------------------------------------------------------------

def adjust_brightness(images, shift):
    """``images`` plus ``shift`` (N, 1, 1, 1): one value added to every pixel of each image."""
    return mx.nd.broadcast_add(images, shift)


def adjust_saturation(images, factor):
    """Each pixel's distance from its own mean over the channels times ``factor`` (N, 1, 1, 1); gray stays gray."""
    if images.shape[1] == 1:
        return images  # one channel is its own mean: the maths gives the image back
    return _scale_around(images, mx.nd.mean(images, axis=1, keepdims=True), factor)


def adjust_contrast(images, factor):
    """Each image's distance from its mean over all its pixels and channels times ``factor`` (N, 1, 1, 1)."""
    return _scale_around(images, mx.nd.mean(images, axis=(1, 2, 3), keepdims=True), factor)


def _scale_around(images, mean, factor):
    """(images - mean) x factor + mean, the arrays broadcast."""
    return mx.nd.broadcast_add(mx.nd.broadcast_mul(mx.nd.broadcast_sub(images, mean), factor), mean)


class Colour:
    """``--augment colour``: per image, DiffAugment's brightness, saturation and contrast, in that order.

    On images in [-1, 1]: brightness + U(-0.5, 0.5), saturation x U(0, 2),
    contrast x U(0.5, 1.5). The brightness shift scales with the images' range
    (+ U(-0.25, 0.25) on [0, 1]).
    """

    key = 0xC010

    @staticmethod
    def wanted(cfg):
        return 'colour' in cfg.augmentations()

    def __init__(self, cfg, value_range):
        self.seed, self.batch_size = cfg.seed, cfg.batch_size
        self.brightness = (value_range[1] - value_range[0]) / 2  # DiffAugment's 1 on [-1, 1]
        self.factors = None

    def start_iteration(self, iteration):
        draws = np.random.default_rng([self.seed, iteration, self.key]).random((3, self.batch_size))
        # Brightness shift, saturation factor, contrast factor, per image: (3, batch, 1, 1, 1).
        factors = np.stack([(draws[0] - 0.5) * self.brightness, draws[1] * 2, draws[2] + 0.5])
        self.factors = factors.astype(np.float32).reshape(3, -1, 1, 1, 1)

    def __call__(self, images, first=0):
        shift, saturation, contrast = (mx.nd.array(f, ctx=images.context)
                                       for f in self.factors[:, first:first + images.shape[0]])
        return adjust_contrast(adjust_saturation(adjust_brightness(images, shift), saturation), contrast)


# --- Cutout ------------------------------------------------------------------------------

def cutout_masks(centres, size, height, width):
    """(N, 1, H, W) float32 masks: 0 in the ``size`` x ``size`` square of each image, 1 elsewhere.

    ``centres`` (2, N): the square's centre row and column, its top-left at
    centre - size // 2; the parts outside the image are dropped (DiffAugment's
    rand_cutout clamps them to the border, which covers the same pixels).
    """
    top, left = (np.asarray(c)[:, None] - size // 2 for c in centres)
    rows = (np.arange(height) >= top) & (np.arange(height) < top + size)  # (N, H)
    cols = (np.arange(width) >= left) & (np.arange(width) < left + size)  # (N, W)
    return (~(rows[:, :, None] & cols[:, None, :]))[:, None].astype(np.float32)


def fill_outside(images, mask, fill):
    """``images`` where ``mask`` (N, 1, H, W) is 1 and ``fill`` where it is 0; gradients pass where it is 1."""
    return mx.nd.broadcast_add(mx.nd.broadcast_mul(images, mask), fill * (1 - mask))


class Cutout:
    """``--augment cutout``: per image, a square of half the image's side, anywhere, filled with the background."""

    key = 0xC07

    @staticmethod
    def wanted(cfg):
        return 'cutout' in cfg.augmentations()

    def __init__(self, cfg, value_range):
        self.seed, self.batch_size, self.size, self.fill = cfg.seed, cfg.batch_size, cfg.image_size, value_range[0]
        self.side = int(cfg.image_size * CUTOUT_FRACTION + 0.5)
        self.masks = None

    def start_iteration(self, iteration):
        # DiffAugment's centres: from 0 to the size (an odd side's square cannot centre on the last pixel+1).
        rng = np.random.default_rng([self.seed, iteration, self.key])
        centres = rng.integers(0, self.size + (1 - self.side % 2), size=(2, self.batch_size))
        self.masks = cutout_masks(centres, self.side, self.size, self.size)

    def __call__(self, images, first=0):
        mask = mx.nd.array(self.masks[first:first + images.shape[0]], ctx=images.context)
        return fill_outside(images, mask, self.fill)


# The augmentations, by their --augment names, in the order they apply. Each decides from the config whether it is on.
AUGMENTATIONS = {
    'colour': Colour,
    'translation': Translation,
    'cutout': Cutout,
}


# --- The probability -----------------------------------------------------------------------

def chosen_images(seed, iteration, key, count, probability):
    """Which of a batch's ``count`` images augmentation ``key`` applies to this iteration: each with ``probability``."""
    return np.random.default_rng([seed, iteration, key, 0xADA]).random(count) < probability


class AdaptiveProbability:
    """``--augment-probability auto``: p from 0, moved by ADA's overfitting heuristic r_t (constants above).

    ``observe`` takes, after each iteration, the sum of the signs of D's
    logits on the real images it judged and how many there were. Its state
    (p and the sums since the last move) is saved with the checkpoint.
    """

    def __init__(self):
        self.p, self.signs, self.images = 0.0, 0.0, 0

    def observe(self, iteration, signs, images):
        """Add iteration ``iteration``'s signs; every ADA_INTERVAL iterations, move p."""
        self.signs += signs
        self.images += images
        if (iteration + 1) % ADA_INTERVAL == 0 and self.images:
            overfitting = self.signs / self.images  # r_t, in [-1, 1]
            step = np.sign(overfitting - ADA_TARGET) * self.images / ADA_IMAGES
            self.p = float(np.clip(self.p + step, 0.0, 1.0))
            self.signs, self.images = 0.0, 0

    def state(self):
        return dict(p=self.p, signs=self.signs, images=self.images)

    def restore(self, state):
        self.p, self.signs, self.images = float(state['p']), float(state['signs']), int(state['images'])


def probability_setting(value):
    """``--augment-probability`` as a float in [0, 1] or 'auto'; ValueError for anything else."""
    if str(value).strip().lower() == 'auto':
        return 'auto'
    p = float(value)
    if not 0 <= p <= 1:  # NaN fails too
        raise ValueError(value)
    return p


# --- The pipe ------------------------------------------------------------------------------

class AugmentPipe:
    """Every augmentation config ``cfg`` turns on, applied in turn to a batch D sees (none: the images as they are).

    ``value_range``: the images' (low, high); low is the background that
    uncovered pixels take. The augmentations named in ``cfg.augment`` apply
    to each image with ``cfg.augment_probability``; one turned on otherwise
    (``--translate`` alone) to every image.
    """

    def __init__(self, cfg, value_range=(BACKGROUND, 1.0)):
        self.seed, self.batch_size = cfg.seed, cfg.batch_size
        wanted = [(name, kind) for name, kind in AUGMENTATIONS.items() if kind.wanted(cfg)]
        self.augmentations = [kind(cfg, value_range) for _, kind in wanted]
        self.by_probability = [name in cfg.augmentations() for name, _ in wanted]
        setting = probability_setting(cfg.augment_probability)
        self.adaptive = AdaptiveProbability() if setting == 'auto' else None
        self.fixed = None if self.adaptive else setting
        self.chosen = [None] * len(self.augmentations)  # per augmentation: its images this iteration (None: all)

    @property
    def probability(self):
        """The p of the augmentations named in --augment now."""
        return self.adaptive.p if self.adaptive else self.fixed

    def start_iteration(self, iteration):
        """Draw this iteration's parameters and images (the same for every batch D sees in it)."""
        for i, augmentation in enumerate(self.augmentations):
            augmentation.start_iteration(iteration)
            if self.by_probability[i]:
                self.chosen[i] = chosen_images(self.seed, iteration, augmentation.key, self.batch_size,
                                               self.probability)

    def __call__(self, images, first=0):
        """``images``, the rows of this iteration's batch from ``first`` on, augmented."""
        for augmentation, chosen in zip(self.augmentations, self.chosen):
            rows = None if chosen is None else chosen[first:first + images.shape[0]]
            if rows is not None and not rows.any():
                continue  # p = 0 is the images as they are, not even a copy
            moved = augmentation(images, first)
            if rows is None or rows.all():
                images = moved
            else:
                images = mx.nd.where(mx.nd.array(rows, ctx=images.context), moved, images)
        return images

    def observe(self, iteration, signs, images):
        """After iteration ``iteration``: the sum of the signs of D's logits on ``images`` real images (auto only)."""
        if self.adaptive:
            self.adaptive.observe(iteration, signs, images)
