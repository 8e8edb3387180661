"""Time to quality as a curve: ours with the default recipe, ours with --recipe seed, and the PyTorch peer.

    python3 bench/time_to_quality.py --models cgan lenet5      # about 2 hours on 2 cores

For each model the PyTorch peer (the seed recipe: same networks, batch, Adam, loss and schedule) trains first,
for --epochs epochs, saving 10,000 samples at --points even points of each epoch together with its training
seconds so far. Ours then trains twice (default recipe, then --recipe seed) and is judged at the same training
seconds (sampling and judging are off the clock for everyone). Every point is judged by the MNIST judge on
10,000 samples (classes in turn for the CGAN). Writes a Markdown table to bench/RESULTS.md and a plot,
FID and conditional accuracy (CGAN) or classifier score (unconditional) against minutes, to
bench/time-to-quality-MODEL.png.
"""
import argparse
import dataclasses
import datetime
import glob
import json
import os
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
sys.path.insert(0, os.path.join(ROOT, 'bench'))

import numpy as np  # noqa: E402

from throughput import MODELS, machine, measuring_trainer, peer_python  # noqa: E402
from core import data as datalib  # noqa: E402
from core.judge import classes_in_turn, judge_generator, judge_images, load_judge  # noqa: E402
from core.training import Progress  # noqa: E402

SAMPLES = 10000


def seed_batch_size(cfg):
    """The batch size of the seed recipe, which the peer trains with."""
    return dataclasses.replace(cfg, recipe='seed', batch_size=None).resolved().batch_size


def peer_curve(name, cfg, folder, epochs, points):
    """[(seconds, iteration, images)] of the PyTorch peer trained the seed's way."""
    dataset = datalib.prepare_dataset(cfg)
    data_file = os.path.join(folder, 'data.npz')
    np.savez(data_file, images=dataset.images[:, 0], labels=dataset.labels)  # the peer reads (N, H, W)
    out = os.path.join(folder, 'peer')
    os.makedirs(out)
    subprocess.run([peer_python(), os.path.join(ROOT, 'bench', 'torch_peer.py'), '--model', name,
                    '--batch', str(seed_batch_size(cfg)), '--train-curve', data_file, out, '--epochs', str(epochs),
                    '--points', str(points)], check=True, capture_output=True, text=True)
    curve = []
    for path in sorted(glob.glob(os.path.join(out, 'point-*.npz'))):
        point = np.load(path)
        curve.append((float(point['seconds']), int(point['iteration']),
                      datalib.to_model_range(point['samples'][:, 0])[:, None]))
    return curve


class _Clock(Progress):
    """Asks the loop to stop once its training seconds reach ``deadline`` (checked after every iteration)."""

    def __init__(self, stop):
        self.stop, self.deadline, self.before, self.started = stop, 0.0, 0.0, 0.0

    def elapsed(self):
        return self.before + time.perf_counter() - self.started

    def step(self, figures):
        if self.elapsed() >= self.deadline:
            self.stop.set()


def our_curve(cfg, folder, times, judge, label=None, on_point=None):
    """[(seconds, iteration, figures)] of our trainer, judged when its training seconds pass each of ``times``.

    ``label`` names the run (default: its recipe); ``on_point(trainer)`` runs after each judged point.
    """
    label = label or cfg.recipe
    stop = threading.Event()
    clock = _Clock(stop)
    trainer = measuring_trainer(cfg, os.path.join(folder, f'run-{label}'), clock)
    cfg = trainer.cfg
    noise = datalib.fixed_noise(cfg.seed + 1, SAMPLES, cfg.noise_dim, cfg.noise_range, cfg.noise_distribution)
    curve = []
    for deadline in times:
        stop.clear()
        clock.deadline, clock.started = deadline, time.perf_counter()
        trainer.train(stop)
        clock.before = clock.elapsed()
        figures = judge_generator(judge, trainer.gan.generate, noise, cfg.num_classes, trainer.gan.value_range)
        curve.append((clock.before, trainer.state.iteration, figures))
        print(f"  {label}: {clock.before:7.1f} s, iteration {trainer.state.iteration}: "
              f"FID {figures['frechet_distance']:.2f}", flush=True)
        if on_point:
            on_point(trainer)
    return curve


def plot(path, title, curves, second_key, second_label):
    fig, axes = curves_figure(curves, second_key)
    axes[0].set_ylabel('Frechet distance (MNIST judge, lower is better)')
    axes[1].set_ylabel(second_label)
    save_curves_figure(fig, axes, path, title, 'training minutes (2-core CPU)')


def curves_figure(curves, second_key):
    """A figure of each run's FID (left, log scale) and ``second_key`` (right) against its training minutes."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2))
    for label, points in curves.items():
        minutes = [p['seconds'] / 60 for p in points]
        axes[0].plot(minutes, [p['frechet_distance'] for p in points], marker='o', label=label)
        axes[1].plot(minutes, [p[second_key] for p in points], marker='o', label=label)
    axes[0].set_yscale('log')
    return fig, axes


def save_curves_figure(fig, axes, path, title, xlabel):
    """Label, grid and save a figure of curves against minutes, then close it."""
    import matplotlib.pyplot as plt
    for ax in axes:
        ax.set_xlabel(xlabel)
        ax.grid(True, alpha=0.3)
        ax.legend()
    fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def measure(name, epochs, points, judge):
    base = MODELS[name]()
    with tempfile.TemporaryDirectory() as folder:
        print(f"{name}: PyTorch peer, {epochs} epochs", flush=True)
        peer = peer_curve(name, base, folder, epochs, points)
        times = [seconds for seconds, _, _ in peer]
        requested = classes_in_turn(SAMPLES, base.num_classes)
        per_epoch = datalib.batches_per_epoch(60000, seed_batch_size(base))
        curves = {'PyTorch peer, seed recipe': [
            dict(seconds=s, iteration=i, epochs=i / per_epoch, **judge_images(judge, images, requested))
            for s, i, images in peer]}
        for recipe in ('tuned', 'seed'):
            print(f"{name}: ours, recipe {recipe}", flush=True)
            cfg = dataclasses.replace(base, recipe=recipe).resolved()
            per_epoch = datalib.batches_per_epoch(60000, cfg.batch_size)
            curves[f'ours, {recipe} recipe'] = [dict(seconds=s, iteration=i, epochs=i / per_epoch, **f)
                                                for s, i, f in our_curve(cfg, folder, times, judge)]
    return curves


def table(curves):
    second = 'conditional_accuracy' if 'conditional_accuracy' in next(iter(curves.values()))[0] else 'classifier_score'
    labels = list(curves)
    head = '| minutes | ' + ' | '.join(f'{label}: FID, {second.replace("_", " ")}, epochs' for label in labels) + ' |'
    rows = [head, '|---' * (len(labels) + 1) + '|']
    for k in range(len(curves[labels[0]])):
        cells = [f"{curves[labels[0]][k]['seconds'] / 60:.1f}"]
        for label in labels:
            p = curves[label][k]
            cells.append(f"{p['frechet_distance']:.1f}, {p[second]:.3f}, {p['epochs']:.2f}")
        rows.append('| ' + ' | '.join(cells) + ' |')
    return '\n'.join(rows), second


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--models', nargs='+', default=['cgan', 'lenet5'], choices=list(MODELS))
    parser.add_argument('--epochs', type=int, default=2, help="the peer's epochs (the length of every curve)")
    parser.add_argument('--points', type=int, default=4, help='judged points per peer epoch')
    parser.add_argument('--out', default=os.path.join(ROOT, 'bench', 'RESULTS.md'))
    args = parser.parse_args(argv)
    judge = load_judge()
    text = [f"\n## Time to quality, curves ({datetime.date.today().isoformat()})\n",
            f"- Machine: {machine()}",
            f"- Command: `python3 bench/time_to_quality.py {' '.join(argv if argv is not None else sys.argv[1:])}`",
            f"- Each trainer is judged on 10,000 samples at the same training seconds (the PyTorch peer's "
            f"{args.points} points per epoch); FID is the MNIST judge's Frechet distance (real digits: 1.06).\n"]
    for name in args.models:
        curves = measure(name, args.epochs, args.points, judge)
        rows, second = table(curves)
        image = os.path.join(ROOT, 'bench', f'time-to-quality-{name}.png')
        plot(image, f'{name}: quality against training time', curves, second,
             'conditional accuracy (higher is better)' if second == 'conditional_accuracy'
             else 'classifier score (higher is better)')
        with open(os.path.join(ROOT, 'bench', f'time-to-quality-{name}.json'), 'w') as f:
            json.dump(curves, f, indent=1)
        text += [f"### {name}\n", rows, f"\n![{name}](time-to-quality-{name}.png)\n"]
        print('\n'.join(text[-3:]), flush=True)
    with open(args.out, 'a') as f:
        f.write('\n'.join(text) + '\n')
    return 0


if __name__ == '__main__':
    sys.exit(main())
