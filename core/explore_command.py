"""test.py's and CGAN/test.py's walks through a generator's inputs: --interpolate, --morph and --gif.

What moves depends on the export: the noise (any generator); InfoGAN's two
continuous codes, its noise and category fixed; or, with ``--morph``, the
class: a blend of two one-hot class vectors, the noise fixed. The maths is in
core/explore.py; the options are checked here before any work.
"""
import dataclasses
import os
from typing import Callable, Optional, Tuple

import numpy as np

from .data.codes import CATEGORIES, CONTINUOUS, make_codes
from .errors import UserError
from .explore import PATHS, default_path, interpolate, keyframe_walk

MORPH_STEPS = 10  # columns of a --morph grid without --interpolate


def add_explore_arguments(parser, conditional):
    """The options of truncation, interpolation, morphing and animation."""
    parser.add_argument('--truncation', type=float, default=1.0, metavar='PSI',
                        help='pull each noise vector toward the centre of its distribution (0 for Gaussian noise, '
                             'the middle of the range for uniform noise) by this factor in [0, 1]: 1 leaves it, '
                             'smaller trades variety for typical samples; applies to every grid, walk and --evaluate')
    parser.add_argument('--interpolate', type=int, default=None, metavar='K',
                        help='write a PNG whose rows each go in K steps between two noise vectors (InfoGAN exports: '
                             'between two settings of the continuous codes; with --morph: from one class to the '
                             'other); --num rows')
    parser.add_argument('--path', choices=PATHS, default=None,
                        help="how to go between two vectors: 'slerp' (along the sphere about the centre) or 'lerp' "
                             "(a straight line); default: slerp for Gaussian noise, lerp for uniform noise and codes, "
                             "which stays inside the range; a slerp of uniform noise is clipped into the range")
    if conditional:
        parser.add_argument('--morph', nargs=2, default=None, metavar=('FROM', 'TO'),
                            help='keep each of --num noise vectors and move the class from digit FROM to digit TO '
                                 '(a linear blend of their one-hot vectors), in --interpolate steps (default '
                                 f'{MORPH_STEPS}); with --gif, the GIF goes FROM, TO and back')
    parser.add_argument('--gif', default=None, metavar='FILE.gif',
                        help='write an animated GIF instead of a PNG (both with --interpolate): each frame a grid, '
                             'every sample walking through --keyframes random vectors and back to the first, looping')
    parser.add_argument('--keyframes', type=int, default=4, help='vectors each sample of --gif walks through')
    parser.add_argument('--frames', type=int, default=48, help='frames of the --gif loop')
    parser.add_argument('--frame-ms', type=int, default=80, help='milliseconds each --gif frame shows')


def check_explore_arguments(args):
    """A one-line UserError for a bad value of these options, before anything is loaded."""
    check_truncation(args.truncation, '--truncation')
    if args.interpolate is not None and args.interpolate < 2:
        raise UserError(f"--interpolate needs at least 2 steps (both ends), got {args.interpolate}")
    if getattr(args, 'morph', None) and args.path == 'slerp':
        raise UserError("--path slerp: a --morph is a linear blend of two one-hot class vectors; leave --path out")
    if args.gif is not None:
        _check_gif_path(args.gif)
        if args.keyframes < 2:
            raise UserError(f"--keyframes must be at least 2, got {args.keyframes}")
        if args.frames < args.keyframes:
            raise UserError(f"--frames must be at least --keyframes ({args.keyframes}), got {args.frames}")
        if args.frame_ms < 10:
            raise UserError(f"--frame-ms must be at least 10 (GIF counts hundredths of a second), got {args.frame_ms}")


def check_truncation(psi, name):
    """A one-line UserError unless ``psi`` (the option or argument ``name``) is in [0, 1]."""
    if not 0 <= psi <= 1:
        raise UserError(f"{name} must be in [0, 1] (1: none, 0: every sample at the centre), got {psi:g}")


def _check_gif_path(path):
    if not path.lower().endswith('.gif'):
        raise UserError(f"--gif: {path} should be a .gif file")
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise UserError(f"--gif: the folder {folder} does not exist; create it first or give another path")
    if not os.access(folder, os.W_OK) or os.path.isdir(path):
        raise UserError(f"--gif: cannot write {path}; give a writable file path")


def exploring(args):
    """Whether the options ask for a walk rather than a plain grid."""
    return args.interpolate is not None or args.gif is not None or bool(getattr(args, 'morph', None))


def parse_morph(values, num_classes):
    """'--morph 3 8' -> (3, 8), each checked against the generator's classes."""
    classes = []
    for value in values:
        if not value.isdigit() or int(value) >= num_classes:
            raise UserError(f"--morph: {value!r} is not a class of this generator (0-{num_classes - 1})")
        classes.append(int(value))
    return tuple(classes)


@dataclasses.dataclass
class Walk:
    """What moves through a generator's inputs, and how it is drawn.

    ``keyframes`` (K, cells, D) are the moving vectors of each grid cell;
    ``draw(values)`` turns (S, cells, D) of them into (S * cells, C, H, W)
    images, the fixed inputs repeated; ``shape`` (rows, cols) lays a GIF
    frame's cells out; ``path``, ``centre`` and ``bounds`` say how to go between two vectors.
    """
    keyframes: np.ndarray
    draw: Callable[[np.ndarray], np.ndarray]
    shape: Tuple[int, int]
    what: str
    path: str = 'lerp'
    centre: float = 0.0
    bounds: Optional[Tuple[float, float]] = None


def _cells(args, for_png, for_gif):
    """--num, or the default of the picture asked for."""
    return args.num if args.num is not None else (for_gif if args.gif and args.interpolate is None else for_png)


def _square(count):
    cols = int(np.ceil(np.sqrt(count)))
    return -(-count // cols), cols


def noise_walk(generator, count, keyframes, seed=0, truncation=1.0, path=None, digits=None):
    """The noise of ``count`` cells moves through ``keyframes`` vectors (the default ``path``: the noise's).

    A conditional generator draws each digit of ``digits`` with the same
    noise walks: ``len(digits) * count`` cells, digit by digit.
    """
    dim = generator.info['noise_dim']
    frames = generator.noise(keyframes * count, seed, truncation).reshape(keyframes, count, dim)
    labels = None
    if digits:  # a row per digit, the same noise in every row
        frames = np.tile(frames, (1, len(digits), 1))
        labels = np.repeat(digits, count).astype(np.float32)
    distribution = generator.noise_distribution
    path = path or default_path(distribution)

    def draw(values):
        return generator.generate(values.reshape(-1, dim), None if labels is None else np.tile(labels, len(values)))

    shape = (len(digits), count) if digits else _square(count)
    return Walk(frames, draw, shape, f"{path} of {distribution} noise", path, generator.noise_centre,
                generator.noise_bounds)


def code_walk(generator, count, keyframes, seed=0, truncation=1.0, path=None):
    """InfoGAN: the two continuous codes move in [-1, 1], each cell's noise and category (cell i: i mod 10) fixed."""
    noise = generator.noise(count, seed, truncation)
    categories = np.arange(count) % CATEGORIES
    frames = np.random.default_rng([seed, 1]).uniform(-1, 1, (keyframes, count, CONTINUOUS))

    def draw(values):
        return generator.generate(np.tile(noise, (len(values), 1)),
                                  make_codes(np.tile(categories, len(values)), values.reshape(-1, CONTINUOUS)))

    path = path or 'lerp'
    return Walk(frames, draw, _square(count), f"{path} of the continuous codes, category = cell mod 10", path,
                0.0, (-1.0, 1.0))


def morph_walk(generator, count, start, end, seed=0, truncation=1.0):
    """The class moves from ``start`` to ``end`` (a blend of one-hot vectors), each cell's noise fixed."""
    noise = generator.noise(count, seed, truncation)
    one_hot = np.eye(generator.num_classes, dtype=np.float32)[[start, end]]
    frames = np.repeat(one_hot[:, None, :], count, axis=1)

    def draw(values):
        return generator.generate_blended(np.tile(noise, (len(values), 1)), values.reshape(-1, generator.num_classes))

    return Walk(frames, draw, _square(count), f"class blend from {start} to {end}")


def walk_of(generator, args, conditional, digits):
    """The walk that the options ask for, for this generator."""
    keyframes = args.keyframes if args.gif else 2
    if getattr(args, 'morph', None):
        start, end = parse_morph(args.morph, generator.num_classes)
        return morph_walk(generator, _cells(args, 10, 10), start, end, args.seed, args.truncation)
    if generator.codes:
        return code_walk(generator, _cells(args, CATEGORIES, CATEGORIES), keyframes, args.seed, args.truncation,
                         args.path)
    count = _cells(args, 1 if conditional else 8, 4 if conditional else 16)
    return noise_walk(generator, count, keyframes, args.seed, args.truncation, args.path,
                      digits if conditional else None)


def interpolation_images(walk, steps):
    """(cells * steps, C, H, W): row r of the grid goes in ``steps`` steps from keyframe 0 to keyframe 1 of cell r."""
    rows = interpolate(walk.keyframes[0], walk.keyframes[1], steps, walk.path, walk.centre, walk.bounds)
    images = walk.draw(rows.swapaxes(0, 1))  # drawn step by step: (steps, cells) -> back to row by row
    return images.reshape((steps, rows.shape[0]) + images.shape[1:]).swapaxes(0, 1).reshape(images.shape)


def animation_frames(walk, frames):
    """``frames`` batches of images, one per GIF frame: every cell walking through its keyframes in a loop."""
    values = keyframe_walk(walk.keyframes, frames, walk.path, walk.centre, walk.bounds)
    images = walk.draw(values)
    return images.reshape((frames, -1) + images.shape[1:])


def explore(generator, args, conditional, digits, default_png):
    """Write the PNG and/or GIF the options ask for; return [(path, description)] of what was written."""
    from .visualize import save_gif, save_grid

    walk = walk_of(generator, args, conditional, digits)
    written = []
    if args.interpolate is not None or not args.gif:
        steps = args.interpolate or MORPH_STEPS
        images = interpolation_images(walk, steps)
        out = args.out or default_png
        save_grid(out, images, len(images) // steps, steps, value_range=generator.value_range)
        written.append((out, f"{len(images) // steps} rows of {steps} steps, {walk.what}"))
    if args.gif:
        frames = animation_frames(walk, args.frames)
        save_gif(args.gif, frames, *walk.shape, value_range=generator.value_range, frame_ms=args.frame_ms)
        stops = len(walk.keyframes)
        written.append((args.gif, f"{args.frames} frames of {walk.shape[0]}x{walk.shape[1]} samples, "
                                  f"{stops} keyframes and back, {walk.what}"))
    return written
