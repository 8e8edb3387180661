"""One quality table for every network: each trains on MNIST with its default settings for the same minutes.

    python3 bench/quality_matrix.py                      # 10 minutes each, lenet5 on 5 seeds (~2 hours)
    python3 bench/quality_matrix.py --minutes 2 --networks conv28 cgan --lenet5-seeds 1

Each network trains with what a user gets from ``python3 train.py
--discriminator-type NAME`` (the CGAN: ``python3 CGAN/train.py``) for
``--minutes`` of training time (sampling and judging are off the clock), then
its moving-average generator draws 10,000 samples for the MNIST judge. Writes
bench/quality-matrix.md (the table, with the machine and the command),
bench/quality-matrix.json and bench/quality-matrix.png. Run it alone: the
minutes are the machine's, and anything else running takes them.
"""
import argparse
import dataclasses
import datetime
import json
import os
import platform
import sys
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
sys.path.insert(0, os.path.join(ROOT, 'bench'))

import core  # noqa: E402,F401  (sets the thread count before mxnet loads)
import mxnet as mx  # noqa: E402
import numpy as np  # noqa: E402

from throughput import machine, measuring_trainer  # noqa: E402
from time_to_quality import _Clock  # noqa: E402
from CGAN.config import cgan_config  # noqa: E402
from core import data as datalib  # noqa: E402
from core.config import GANConfig  # noqa: E402
from core.judge import format_figures, judge_generator, load_judge  # noqa: E402

SAMPLES = 10000
# (row name, settings): what a user gets by default. deep_convolution is sized for a GPU (an hour per epoch here);
# at --width 0.25 it is the pair sized for a CPU (a sixteenth of the arithmetic, docs/networks.md), and at 32x32
# (--image-size 32, one stage fewer) the setting docs/own-pictures.md recommends for small pictures.
NETWORKS = {
    'lenet5': lambda: GANConfig(discriminator_type='lenet5', context='cpu'),
    'deep_convolution': lambda: GANConfig(discriminator_type='deep_convolution', context='cpu'),
    'deep_convolution-w0.25': lambda: GANConfig(discriminator_type='deep_convolution', width=0.25, context='cpu'),
    'deep_convolution-w0.25-32': lambda: GANConfig(discriminator_type='deep_convolution', width=0.25, image_size=32,
                                                   context='cpu'),
    'conv28': lambda: GANConfig(discriminator_type='conv28', context='cpu'),
    'cgan': lambda: GANConfig(**{**cgan_config().to_dict(), 'context': 'cpu'}),
    'mlp': lambda: GANConfig(discriminator_type='mlp', context='cpu'),
    'maxout': lambda: GANConfig(discriminator_type='maxout', context='cpu'),
    'infogan': lambda: GANConfig(discriminator_type='infogan', context='cpu'),
}


def train_and_judge(cfg, minutes, judge, folder):
    """Train ``cfg`` for ``minutes`` of training time; the judge's figures of 10,000 samples, with the iterations."""
    stop = threading.Event()
    clock = _Clock(stop)
    trainer = measuring_trainer(cfg, folder, clock)
    clock.deadline, clock.started = 60 * minutes, time.perf_counter()
    trainer.train(stop)
    seconds = clock.elapsed()
    cfg = trainer.cfg
    noise = datalib.fixed_noise(cfg.seed + 1, SAMPLES, cfg.noise_dim, cfg.noise_range, cfg.noise_distribution)
    figures = judge_generator(judge, trainer.gan.generate, noise, cfg.num_classes, trainer.gan.value_range)
    epochs = trainer.state.iteration / datalib.batches_per_epoch(60000, cfg.resolved().batch_size)
    return dict(figures, iteration=trainer.state.iteration, epochs=round(epochs, 3), train_seconds=round(seconds, 1))


def summarize(rows):
    """Mean and spread (min to max) of a network's seeds."""
    keys = ('frechet_distance', 'kernel_distance', 'precision', 'recall', 'density', 'coverage', 'classifier_score',
            'class_evenness')
    return {k: (float(np.mean([r[k] for r in rows])), min(r[k] for r in rows), max(r[k] for r in rows)) for k in keys}


def table(results):
    lines = ["| network | seeds | iterations (epochs) | FID | KID x 1000 | precision | recall | density | coverage "
             "| classifier score | evenness | conditional accuracy | targets met (score >= 8, evenness >= 0.95) |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for name, rows in results.items():
        s = summarize(rows)

        def cell(key, fmt, factor=1):
            mean, low, high = (factor * value for value in s[key])
            return f"{mean:{fmt}}" if len(rows) == 1 else f"{mean:{fmt}} ({low:{fmt}} to {high:{fmt}})"
        accuracy = [r['conditional_accuracy'] for r in rows if 'conditional_accuracy' in r]
        met = sum(r['classifier_score'] >= 8 and r['class_evenness'] >= 0.95 for r in rows)
        cells = [name, ', '.join(str(r['seed']) for r in rows),
                 f"{int(np.mean([r['iteration'] for r in rows]))} ({np.mean([r['epochs'] for r in rows]):.2f})",
                 cell('frechet_distance', '.1f'), cell('kernel_distance', '.1f', 1000), cell('precision', '.3f'),
                 cell('recall', '.3f'), cell('density', '.3f'), cell('coverage', '.3f'),
                 cell('classifier_score', '.2f'), cell('class_evenness', '.3f'),
                 f"{np.mean(accuracy):.3f}" if accuracy else '-', f"{met} of {len(rows)}"]
        lines.append('| ' + ' | '.join(cells) + ' |')
    return '\n'.join(lines)


def plot(path, results, minutes):
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    names = list(results)
    fig, axes = plt.subplots(1, 3, figsize=(13, 4))
    for ax, key, label in zip(axes, ('frechet_distance', 'classifier_score', 'recall'),
                              ('FID (lower is better, log scale)', 'classifier score (10 is best)', 'recall')):
        values = [[r[key] for r in results[n]] for n in names]
        ax.bar(names, [np.mean(v) for v in values], color='tab:blue', alpha=0.7)
        for i, v in enumerate(values):
            ax.plot([i] * len(v), v, 'k.', markersize=6)
        ax.set_title(label)
        ax.tick_params(axis='x', rotation=45)
        plt.setp(ax.get_xticklabels(), ha='right', rotation_mode='anchor')  # long names end under their bar
        if key == 'frechet_distance':
            ax.set_yscale('log')
    fig.suptitle(f'Every network after {minutes:g} minutes of training on MNIST (MNIST judge, 10,000 samples; '
                 'dots: seeds)')
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


def write(out, run, results):
    """Write OUT.md, OUT.json and OUT.png from the rows so far; returns the Markdown header.

    ``run``: the minutes, the command, the start and the judge's name.
    """
    header = (f"# Every network after {run['minutes']:g} minutes of training on MNIST\n\n"
              f"- Started {run['started']}; machine: {run['machine']}\n"
              f"- Versions: {run['versions']}\n"
              f"- Command: `{run['command']}`\n"
              f"- Each network with its default settings (the tuned recipe); 10,000 samples of its moving-average "
              f"generator, judged by {run['judge']}; several seeds: mean (min to max).\n\n")
    with open(out + '.md', 'w') as f:
        f.write(header + table(results) + '\n')
    with open(out + '.json', 'w') as f:
        json.dump(dict(run, results=results), f, indent=1)
    plot(out + '.png', results, run['minutes'])
    return header


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--minutes', type=float, default=10.0, help='training minutes per network and seed')
    parser.add_argument('--networks', nargs='+', default=list(NETWORKS), choices=list(NETWORKS))
    parser.add_argument('--lenet5-seeds', type=int, default=5, help='seeds 0..N-1 of lenet5 (the others: seed 0)')
    parser.add_argument('--out', default=os.path.join(ROOT, 'bench', 'quality-matrix'),
                        help='where to write OUT.md, OUT.json and OUT.png')
    parser.add_argument('--rewrite', action='store_true',
                        help='train nothing: write OUT.md and OUT.png again from OUT.json (after a change of the table)')
    args = parser.parse_args(argv)
    if args.rewrite:
        with open(args.out + '.json') as f:
            run = json.load(f)
        results = run.pop('results')
        print(write(args.out, run, results) + table(results))
        return 0
    if args.minutes <= 0 or args.lenet5_seeds < 1:
        parser.error('--minutes must be above 0 and --lenet5-seeds at least 1')
    judge = load_judge()
    results = {}
    run = {'minutes': args.minutes, 'started': f"{datetime.datetime.now():%Y-%m-%d %H:%M}", 'machine': machine(),
           'versions': f"Python {platform.python_version()}, mxnet {mx.__version__}, numpy {np.__version__}",
           'command': ' '.join(['python3', 'bench/quality_matrix.py'] + (argv if argv is not None else sys.argv[1:])),
           'judge': judge.name}
    for name in args.networks:
        results[name] = []
        for seed in range(args.lenet5_seeds if name == 'lenet5' else 1):
            cfg = dataclasses.replace(NETWORKS[name](), seed=seed)
            with tempfile.TemporaryDirectory() as folder:
                row = dict(train_and_judge(cfg, args.minutes, judge, os.path.join(folder, 'run')), seed=seed)
            results[name].append(row)
            print(f"{name} seed {seed}: iteration {row['iteration']} ({row['epochs']:.2f} epochs): "
                  f"{format_figures(row)}", flush=True)
            header = write(args.out, run, results)  # after every row: a stopped run keeps what it has
    print(header + table(results))
    return 0


if __name__ == '__main__':
    sys.exit(main())
