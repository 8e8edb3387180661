"""Project a picture into an exported generator's latent space: the noise whose image is closest to it.

    python3 -m core.project digit.png --export-dir model_export
    python3 -m core.project seven.png --export-dir runs/00003-cgan --digit 7 --gif search.gif

Adam moves the noise ``z`` (an NDArray with ``attach_grad``) through the
exported generator (``mx.gluon.SymbolBlock``, its weights frozen) to lower a
pixel loss plus a feature loss: the distance between the judge's features of
the two images (core/judge.py), which weighs strokes and shapes more than
single pixels. Several random starts run side by side in one batch, and the
best is kept. Only the export and its sidecar are used: no network or
training code of this project.

- **The noise's distribution is respected**: uniform noise is clipped to the
  sidecar's ``noise_range`` after every step; gaussian noise gets a small
  penalty that keeps its mean square near 1, where the generator's noise lies.
- **Conditional exports** need ``--digit``: the class is held fixed.
- **InfoGAN exports** (sidecar ``latent_codes``): the two continuous codes are
  optimized with the noise (clipped to [-1, 1]); the categorical code is held
  fixed in each start, start ``i`` taking category ``i mod 10``, so that
  ``--restarts 10`` tries every category.
- **The picture** is read with Pillow (PNG, JPEG, ...), turned gray or colour
  as the export draws, and scaled and centre-cropped to its size when it has
  another size (the output says so).
"""
import argparse
import json
import logging
import os
import sys
import warnings

import mxnet as mx
import numpy as np
from mxnet.gluon import nn

from .data.codes import CATEGORIES, CONTINUOUS, make_codes
from .data.folder import COLOUR_MODES, read_picture
from .data.imageset import to_model_range
from .errors import UserError, short_reason
from .fileio import atomic_path
from .sampling import ExportedGenerator, find_generator

log = logging.getLogger(__name__)

DEFAULT_STEPS, DEFAULT_RESTARTS, DEFAULT_LR = 300, 4, 0.05
DEFAULT_FEATURE_WEIGHT = 0.1  # the feature term is relative (divided by the target's features' mean square)
DEFAULT_PRIOR_WEIGHT = 0.01   # gaussian noise only
GIF_FRAMES = 40


# The target picture -----------------------------------------------------------------------

def load_target(path, size, channels, value_range=(-1.0, 1.0)):
    """A picture file as (channels, size, size) float32 in ``value_range``, and notes on how it was changed.

    The picture is converted to gray or colour (``channels``) and, when it is
    not ``size`` x ``size``, scaled so that its shorter side fits and
    centre-cropped (nothing is squashed). Raises UserError for a file that is
    not a picture.
    """
    from PIL import Image

    if not os.path.isfile(path):
        raise UserError(f"no picture {path}: give the path of a PNG or JPEG file")
    try:
        with Image.open(path) as picture:
            (width, height), mode = picture.size, picture.mode
        pixels = read_picture(path, size, channels)
    except (OSError, ValueError, Image.DecompressionBombError) as e:
        raise UserError(f"{path} is not a picture that Pillow can read (PNG, JPEG, ...): {short_reason(e)}") from None
    notes = []
    if (width, height) != (size, size):
        notes.append(f"{width}x{height} scaled and centre-cropped to the export's {size}x{size}")
    if channels == 1 and mode in COLOUR_MODES:
        notes.append("colour turned to gray, as the export draws")
    elif channels == 3 and mode not in COLOUR_MODES:
        notes.append("gray copied to three colour channels, as the export draws")
    return to_model_range(pixels, value_range), notes


def to_unit_range(images, value_range):
    """Images (numpy or NDArray) in ``value_range`` -> [0, 1], the scale the errors are reported on."""
    low, high = value_range
    return (images - low) * (1.0 / (high - low))


def pixel_errors(images, targets, value_range):
    """(mean squared error, mean absolute error) per image, on the [0, 1] scale."""
    diff = to_unit_range(np.asarray(images, np.float32), value_range) - \
        to_unit_range(np.asarray(targets, np.float32), value_range)
    axes = tuple(range(1, diff.ndim))
    return (diff ** 2).mean(axis=axes), np.abs(diff).mean(axis=axes)


# The loss -------------------------------------------------------------------------------

class JudgeFeatures:
    """The judge's 128 features of generated images, differentiable with respect to the images.

    The images are brought to what the judge reads, inside the graph:
    [-1, 1], its size (bilinear) and its channels. Its weights are frozen.
    """

    def __init__(self, judge, value_range):
        self.judge, self.value_range = judge, value_range
        self.size, self.channels = judge.info['size'], judge.info['channels']
        judge.net.collect_params().setattr('grad_req', 'null')

    def __call__(self, images):
        x = to_unit_range(images, self.value_range) * 2 - 1
        if x.shape[-1] != self.size:
            x = mx.nd.contrib.BilinearResize2D(x, height=self.size, width=self.size)
        if x.shape[1] == 3 and self.channels == 1:  # Pillow's luma weights, as to_judge_input uses
            x = 0.299 * x[:, 0:1] + 0.587 * x[:, 1:2] + 0.114 * x[:, 2:3]
        elif x.shape[1] == 1 and self.channels == 3:
            x = mx.nd.repeat(x, 3, axis=1)
        # mxnet 1.9.1's oneDNN max pooling gives wrong input gradients when recorded in predict mode
        # (train_mode=False; measured against finite differences): run the layers in train mode instead,
        # leaving out the dropout, the judge's only layer that trains differently (it has no BatchNorm).
        with mx.autograd.train_mode():
            for layer in self.judge.net.body:
                if not isinstance(layer, nn.Dropout):
                    x = layer(x)
        return x


class ProjectionLoss:
    """The loss of each generated image against its target: pixels, the judge's features, the noise prior.

    ``pixel``: mean squared error on the [0, 1] scale. ``features`` (with a
    judge): the squared distance of the judge's features divided by the mean
    square of the target's, so ``feature_weight`` does not depend on the
    judge's scale. ``prior_weight`` (gaussian noise only): (mean(z^2) - 1)^2,
    which keeps z where standard normal noise lies.
    """

    def __init__(self, targets, value_range, features=None, feature_weight=DEFAULT_FEATURE_WEIGHT,
                 prior_weight=0.0):
        self.targets = mx.nd.array(targets)
        self.unit_targets = to_unit_range(self.targets, value_range)
        self.value_range, self.features = value_range, features
        self.feature_weight, self.prior_weight = feature_weight, prior_weight
        if features is not None and feature_weight > 0:
            self.target_features = features(self.targets)
            self.feature_scale = mx.nd.mean(self.target_features ** 2, axis=1) + 1e-8

    def __call__(self, images, z):
        """Per-image losses (N,) for images (N, C, H, W) drawn from noise ``z`` (N, D)."""
        diff = to_unit_range(images, self.value_range) - self.unit_targets
        loss = mx.nd.mean(diff ** 2, axis=(1, 2, 3))
        if self.features is not None and self.feature_weight > 0:
            distance = mx.nd.mean((self.features(images) - self.target_features) ** 2, axis=1)
            loss = loss + self.feature_weight * distance / self.feature_scale
        if self.prior_weight > 0:
            loss = loss + self.prior_weight * (mx.nd.mean(z ** 2, axis=1) - 1) ** 2
        return loss


# The search ------------------------------------------------------------------------------

# Layers whose training behaviour differs from sampling, set to behave as in sampling even in train mode.
AS_IN_SAMPLING = {'BatchNorm': {'use_global_stats': 'True'}, 'Dropout': {'p': '0'}}


class GradientGenerator:
    """An export's generator that gives gradients with respect to its inputs; its weights frozen.

    Its graph is the export's, run in train mode with BatchNorm on its running
    statistics and dropout off, so it draws what the export draws in predict
    mode. Why not predict mode: in mxnet 1.9.1, oneDNN's deconvolution then
    reorders its weights in place for the batch size at hand, and a later
    batch of another size can fail ("Check failed: weights.GetMKLDNNData()
    ->get_desc() == ..."); in train mode the weights keep their layout.

    Parameters
    ----------
    exported : ExportedGenerator
        The loaded export: its sidecar, files and noise.
    """

    def __init__(self, exported):
        self.exported = exported
        with open(os.path.join(exported.folder, exported.info['symbol_file'])) as f:
            graph = json.load(f)
        for node in graph['nodes']:
            node.setdefault('attrs', {}).update(AS_IN_SAMPLING.get(node['op'], {}))
        inputs = [mx.sym.var(name) for name in exported.info['input_names']]
        with warnings.catch_warnings():  # SymbolBlock warns that the inputs' types are unknown: they are float32
            warnings.simplefilter('ignore')
            self.net = mx.gluon.SymbolBlock(mx.sym.load_json(json.dumps(graph)), inputs)
            self.net.collect_params().load(os.path.join(exported.folder, exported.info['params_file']),
                                           ctx=exported.ctx, cast_dtype=True, dtype_source='saved')
        self.net.collect_params().setattr('grad_req', 'null')  # the weights stay as exported: no gradients
        self.net.hybridize(static_alloc=True, static_shape=True)

    def __call__(self, *inputs):
        """Images (NDArray) for input NDArrays, recordable by autograd."""
        with mx.autograd.train_mode():
            return self.net(*inputs)

    def draw(self, z, second=None, batch_size=256):
        """Images (numpy) for noise ``z`` and the second input (classes or InfoGAN codes), if the export takes one."""
        out = []
        for start in range(0, len(z), batch_size):
            inputs = [z[start:start + batch_size]] + ([] if second is None else [second[start:start + batch_size]])
            out.append(self(*[mx.nd.array(x, ctx=self.exported.ctx) for x in inputs]).asnumpy())
        return np.concatenate(out)


class Latents:
    """What the search moves for a batch of starts: the noise, and InfoGAN's continuous codes.

    ``fixed``: the generator's second input held as it is (a conditional
    export's classes, or InfoGAN's categorical one-hot code with the
    continuous codes still to be added), or None.
    """

    def __init__(self, z, fixed=None, continuous=None):
        self.z = mx.nd.array(z)
        self.fixed = None if fixed is None else mx.nd.array(fixed)
        self.continuous = None if continuous is None else mx.nd.array(continuous)
        self.moving = [self.z] + ([self.continuous] if self.continuous is not None else [])
        for array in self.moving:
            array.attach_grad()

    def inputs(self):
        """The generator's inputs, built inside the recorded graph so that the gradients reach z (and the codes)."""
        if self.continuous is not None:
            return [self.z, mx.nd.concat(self.fixed[:, :CATEGORIES], self.continuous, dim=1)]
        return [self.z] if self.fixed is None else [self.z, self.fixed]

    def second_input(self):
        """The generator's second input as numpy (classes or full codes), or None."""
        if self.continuous is not None:
            return make_codes(self.fixed[:, :CATEGORIES].asnumpy().argmax(1), self.continuous.asnumpy())
        return None if self.fixed is None else self.fixed.asnumpy()


def clip_to_ranges(latents, noise_range, distribution):
    """Uniform noise back into its range, and the continuous codes into [-1, 1], after a step."""
    if distribution == 'uniform':
        mx.nd.clip(latents.z, *noise_range, out=latents.z)
    if latents.continuous is not None:
        mx.nd.clip(latents.continuous, -1, 1, out=latents.continuous)


def optimize(generator, latents, loss_fn, steps, lr, on_step=None):
    """One search from the starts in ``latents``: ``steps`` Adam steps on z (and the codes); the best of each kept.

    ``generator`` is a :class:`GradientGenerator`. Each start is its own
    search: the batch loss is the sum of per-image losses and Adam works
    elementwise. Returns (z, second input, images, losses) where each start's
    loss was lowest. ``on_step(step, images)`` sees the images (numpy) of each step.
    """
    info = generator.exported.info
    optimizer = mx.optimizer.Adam(learning_rate=lr)
    states = [optimizer.create_state(i, array) for i, array in enumerate(latents.moving)]
    best = {'loss': np.full(latents.z.shape[0], np.inf, np.float32)}
    for step in range(steps + 1):
        with mx.autograd.record():
            images = generator(*latents.inputs())
            loss = loss_fn(images, latents.z)
        found = {'loss': loss.asnumpy(), 'images': images.asnumpy(), 'z': latents.z.asnumpy(),
                 'second': latents.second_input()}
        if on_step is not None:
            on_step(step, found['images'])
        better = found['loss'] < best['loss']
        for key, value in found.items():
            if value is not None:
                best[key] = np.where(better.reshape((-1,) + (1,) * (value.ndim - 1)), value, best.get(key, value))
        if step == steps:  # the last loss is measured, not followed by a step
            break
        loss.backward()
        for i, (array, state) in enumerate(zip(latents.moving, states)):
            optimizer.update(i, array, array.grad, state)
        clip_to_ranges(latents, info['noise_range'], info.get('noise_distribution', 'uniform'))
    return best['z'], best.get('second'), best['images'], best['loss']


def starting_latents(exported, count, restarts, seed, classes=None):
    """``restarts`` starts for each of ``count`` targets (target-major): noise from the sidecar's distribution.

    ``classes`` (count,): a conditional export's class of each target. InfoGAN:
    start ``i`` of a target takes category ``i mod 10`` and continuous codes 0.
    """
    z = exported.noise(count * restarts, seed)
    if exported.codes:
        categories = np.tile(np.arange(restarts) % CATEGORIES, count)
        codes = make_codes(categories, np.zeros((len(categories), CONTINUOUS), np.float32))
        return Latents(z, codes, codes[:, CATEGORIES:])
    if exported.conditional:
        return Latents(z, np.repeat(np.asarray(classes, np.float32), restarts))
    return Latents(z)


def project(generator, targets, classes=None, steps=DEFAULT_STEPS, restarts=DEFAULT_RESTARTS, lr=DEFAULT_LR,
            seed=0, judge=None, feature_weight=DEFAULT_FEATURE_WEIGHT, prior_weight=DEFAULT_PRIOR_WEIGHT,
            frames=0):
    """The latents whose images are closest to ``targets`` (N, C, H, W), in the generator's value range.

    ``generator`` is a :class:`GradientGenerator`; ``classes`` (N,) the class
    of each target for a conditional export. Runs ``restarts`` searches per
    target, all in one batch, and keeps each target's best. Returns a dict:
    ``z`` (N, noise_dim), ``second`` (the classes or InfoGAN codes, or None),
    ``images``, ``loss``, ``mse`` and ``mae`` (per target, [0, 1] scale);
    with ``frames`` > 0 also ``frames``: about that many snapshots (each
    (N, C, H, W)) of the chosen starts' images over the search.
    """
    exported = generator.exported
    targets = np.asarray(targets, np.float32)
    features = JudgeFeatures(judge, exported.value_range) if judge is not None else None
    gaussian = exported.info.get('noise_distribution', 'uniform') == 'gaussian'
    loss_fn = ProjectionLoss(np.repeat(targets, restarts, axis=0), exported.value_range, features, feature_weight,
                             prior_weight if gaussian else 0.0)
    latents = starting_latents(exported, len(targets), restarts, seed, classes)
    snapshots, every = [], max(1, steps // frames) if frames else 0

    def snapshot(step, images):
        if frames and (step % every == 0 or step == steps):
            snapshots.append(images)

    z, second, images, losses = optimize(generator, latents, loss_fn, steps, lr, snapshot)
    best = losses.reshape(len(targets), restarts).argmin(axis=1) + np.arange(len(targets)) * restarts
    result = {'z': z[best], 'second': None if second is None else second[best], 'images': images[best],
              'loss': losses[best]}
    result['mse'], result['mae'] = pixel_errors(result['images'], targets, exported.value_range)
    if frames:
        result['frames'] = [frame[best] for frame in snapshots]
    return result


# Judges and outputs ----------------------------------------------------------------------

def judge_for(info, spec, ctx=None):
    """The judge whose features the loss compares: 'auto' (the export's data's, if any), 'mnist', 'none', a folder.

    With 'auto' and no judge for the export's data, the loss is pixels alone, with a warning.
    """
    from .judge import find_judge

    if spec == 'none':
        return None
    try:
        return find_judge(info.get('dataset', 'mnist'), info.get('data_dir', ''), spec, ctx)
    except UserError as e:
        if spec != 'auto':
            raise UserError(f"--judge: {e}") from None
        log.warning("warning: pixel loss only: %s", e)
        return None


def save_side_by_side(path, target, image, value_range):
    """The target beside its reconstruction, as one PNG."""
    from .visualize import save_grid
    return save_grid(path, np.stack([target, image]), 1, 2, value_range)


def save_search_gif(path, target, frames, value_range, duration_ms=80):
    """A GIF of the search: the target beside the reconstruction of each frame, the last frame held longer."""
    from PIL import Image

    from .visualize import grid_picture

    pictures = [Image.fromarray(grid_picture(np.stack([target, frame]), 1, 2, value_range)) for frame in frames]
    durations = [duration_ms] * (len(pictures) - 1) + [1000]
    with atomic_path(path) as tmp:
        pictures[0].save(tmp, format='GIF', save_all=True, append_images=pictures[1:], duration=durations, loop=0)
    return path


def save_array(path, array):
    """An array as a .npy file, written whole or not at all."""
    with atomic_path(path) as tmp, open(tmp, 'wb') as f:
        np.save(f, np.asarray(array, np.float32))
    return path


# The command -----------------------------------------------------------------------------

def build_parser():
    from .config import _OneLineParser  # its errors are one line, as the rest of this command's
    from .paths import EXPORT_ROOT

    parser = _OneLineParser(prog='python3 -m core.project', description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('image', help='the picture to project (PNG, JPEG, ...)')
    parser.add_argument('--export-dir', default=EXPORT_ROOT,
                        help='folder holding the exported generator, or a run folder (default: model_export)')
    parser.add_argument('--model', default=None,
                        help='export name (e.g. lenet5); default: the newest generator in --export-dir')
    parser.add_argument('--digit', type=int, default=None,
                        help='conditional exports: the class (digit) to draw, 0..num_classes-1; required there')
    parser.add_argument('--steps', type=int, default=DEFAULT_STEPS, help=f'Adam steps of each search '
                                                                         f'(default {DEFAULT_STEPS})')
    parser.add_argument('--restarts', type=int, default=DEFAULT_RESTARTS,
                        help=f'random starts, searched side by side; the best is kept (default {DEFAULT_RESTARTS}; '
                             'InfoGAN: start i holds category i mod 10, so 10 tries every category)')
    parser.add_argument('--lr', type=float, default=DEFAULT_LR,
                        help=f"Adam's learning rate on z (default {DEFAULT_LR})")
    parser.add_argument('--seed', type=int, default=0, help='seed of the random starts (default 0)')
    parser.add_argument('--judge', default='auto',
                        help="whose features the loss compares: 'auto' (the judge of the export's data, or pixels "
                             "alone with a warning when there is none), 'mnist', 'none' (pixels alone), or a judge "
                             "folder (default auto)")
    parser.add_argument('--feature-weight', type=float, default=DEFAULT_FEATURE_WEIGHT,
                        help=f"weight of the judge's feature distance against the pixel loss "
                             f"(default {DEFAULT_FEATURE_WEIGHT})")
    parser.add_argument('--prior-weight', type=float, default=DEFAULT_PRIOR_WEIGHT,
                        help=f'gaussian noise only: weight of the penalty (mean(z^2) - 1)^2 '
                             f'(default {DEFAULT_PRIOR_WEIGHT})')
    parser.add_argument('--out', default=None,
                        help='PNG of the target beside the reconstruction; the found z goes beside it as .npy '
                             '(default: runs/projections/IMAGE-NAME.png)')
    parser.add_argument('--gif', default=None, help='also write a GIF of the search (the reconstruction over steps)')
    return parser


def check_arguments(args):
    """One line for each option value that cannot work, before anything is loaded."""
    for name in ('steps', 'restarts'):
        if getattr(args, name) < 1:
            raise UserError(f"--{name} must be at least 1, got {getattr(args, name)}")
    if args.lr <= 0:
        raise UserError(f"--lr must be positive, got {args.lr}")
    if args.feature_weight < 0 or args.prior_weight < 0:
        raise UserError("--feature-weight and --prior-weight must be 0 or more")
    if args.out is not None and not args.out.lower().endswith('.png'):
        raise UserError(f"--out: {args.out} should be a .png file")
    if args.gif is not None and not args.gif.lower().endswith('.gif'):
        raise UserError(f"--gif: {args.gif} should be a .gif file")


def class_of(generator, digit):
    """The class to hold fixed: ``--digit``, checked against the export; None for an unconditional one."""
    name = generator.info['name']
    if not generator.conditional:
        if digit is not None:
            raise UserError(f"--digit: export {name!r} is unconditional; leave --digit out")
        return None
    classes = generator.num_classes
    names = generator.info.get('class_names')
    listing = f" ({', '.join(f'{i} {n}' for i, n in enumerate(names))})" if names else ''
    if digit is None:
        raise UserError(f"export {name!r} is conditional: give the class to draw with "
                        f"--digit 0..{classes - 1}{listing}")
    if not 0 <= digit < classes:
        raise UserError(f"--digit {digit} is not a class of export {name!r}: 0..{classes - 1}{listing}")
    return digit


def write_outputs(args, exported, target, result):
    """The PNG, the found z (.npy), InfoGAN's codes and the GIF, as asked; returns their paths."""
    from .paths import RUNS_ROOT

    stem = os.path.splitext(os.path.basename(args.image))[0]
    out = args.out or os.path.join(RUNS_ROOT, 'projections', f"{stem}-{exported.info['name']}.png")
    save_side_by_side(out, target, result['images'][0], exported.value_range)
    written = [out, save_array(os.path.splitext(out)[0] + '.npy', result['z'])]
    if exported.codes:
        written.append(save_array(os.path.splitext(out)[0] + '-codes.npy', result['second']))
    if args.gif:
        written.append(save_search_gif(args.gif, target, [frame[0] for frame in result['frames']],
                                       exported.value_range))
    return written


def main(argv=None):
    args = build_parser().parse_args(argv)
    check_arguments(args)
    exported = ExportedGenerator(find_generator(args.export_dir, args.model))
    info = exported.info
    if info.get('points'):
        raise UserError(f"export {info['name']!r} draws 2-D points, not pictures: there is nothing to project")
    digit = class_of(exported, args.digit)
    target, notes = load_target(args.image, info['image_size'], info.get('image_channels', 1), exported.value_range)
    for note in notes:
        print(f"{args.image}: {note}")
    judge = judge_for(info, args.judge, exported.ctx) if args.feature_weight > 0 else None
    result = project(GradientGenerator(exported), target[None], None if digit is None else [digit], args.steps,
                     args.restarts, args.lr, args.seed, judge, args.feature_weight, args.prior_weight,
                     GIF_FRAMES if args.gif else 0)
    written = write_outputs(args, exported, target, result)
    how = f"judge {judge.name}'s features (weight {args.feature_weight:g}) and pixels" if judge else 'pixels alone'
    print(f"projected {args.image} into {info['name']}{'' if digit is None else f' (digit {digit})'}: "
          f"pixel MSE {result['mse'][0]:.4g}, mean absolute error {result['mae'][0]:.4g} on [0, 1]; "
          f"best of {args.restarts} starts, {args.steps} steps, loss on {how}")
    if exported.codes:
        print(f"InfoGAN codes: category {int(result['second'][0, :CATEGORIES].argmax())}, continuous "
              f"{', '.join(f'{c:.3f}' for c in result['second'][0, CATEGORIES:])}")
    print(f"written: {', '.join(written)}")
    return 0


if __name__ == '__main__':
    from .cli import run_main
    sys.exit(run_main(main))
