"""Time to quality on your own pictures: several training commands, the same minutes, the data's own judge.

    python3 bench/own_pictures.py --name fashion --minutes 10 --points 4 \\
        --run "today=train.py --dataset idx --data-dir /usr/share/datasets/fashion-mnist" \\
        --run "w025=train.py --dataset idx --data-dir /usr/share/datasets/fashion-mnist \\
               --discriminator-type deep_convolution --width 0.25"

Each ``--run LABEL=COMMAND`` is a train.py (or CGAN/train.py) command line: its options are read by that
script's own parser and checked as the script checks them. The runs train one after the other, each for
``--minutes`` of training time, and are judged at ``--points`` even points (sampling and judging off the
clock) on 10,000 samples of their moving-average generator by the judge of their data (python3 -m core.judge;
every run must use the same data, so that one judge ranks them). Writes bench/own-pictures-NAME.md (the
machine, the versions, the commands and a table), .json, a plot of FID and KID against minutes (.png) and a
grid of each run's last samples (-LABEL.png). Run it alone: the minutes are the machine's.
"""
import argparse
import datetime
import json
import os
import platform
import shlex
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
sys.path.insert(0, os.path.join(ROOT, 'bench'))

import core  # noqa: E402,F401  (sets the thread count before mxnet loads)
import mxnet as mx  # noqa: E402
import numpy as np  # noqa: E402

from throughput import machine  # noqa: E402
from time_to_quality import curves_figure, our_curve, save_curves_figure  # noqa: E402
from core import data as datalib  # noqa: E402
from core.cli import run_main  # noqa: E402
from core.errors import UserError  # noqa: E402
from core.judge import find_judge  # noqa: E402
from core.visualize import save_grid  # noqa: E402

FIGURES = ('frechet_distance', 'kernel_distance', 'precision', 'recall')
SCRIPTS = ('train.py', 'CGAN/train.py')


def parse_run(text):
    """'LABEL=train.py OPTIONS' -> (label, the config those options give, the command as written)."""
    from CGAN.config import cgan_config
    from core.config import GANConfig, build_parser
    from core.config_file import config_from_args

    label, sep, command = text.partition('=')
    words = shlex.split(command)
    if not sep or not label or not words or words[0] not in SCRIPTS:
        raise UserError(f"--run {text!r}: write LABEL=train.py OPTIONS (or LABEL=CGAN/train.py OPTIONS)")
    defaults = cgan_config() if words[0] == 'CGAN/train.py' else GANConfig()
    cfg, _ = config_from_args(build_parser(defaults, '').parse_args(words[1:]), defaults)
    return label, cfg, 'python3 ' + ' '.join(shlex.quote(w) for w in words)


def run_one(label, cfg, minutes, points, judge, folder, grid_path):
    """The judged points of one run: [{seconds, iteration, epochs, figures...}]; its last samples go to ``grid_path``."""
    times = [60 * minutes * (k + 1) / points for k in range(points)]
    last = {}
    curve = our_curve(cfg, folder, times, judge, label=label, on_point=lambda trainer: last.update(trainer=trainer))
    trainer = last['trainer']
    cfg = trainer.cfg
    noise = datalib.fixed_noise(cfg.seed, 64, cfg.noise_dim, cfg.noise_range, cfg.noise_distribution)
    labels = (np.arange(64) % cfg.num_classes).astype(np.float32) if cfg.num_classes else None
    save_grid(grid_path, trainer.gan.generate(noise, labels), 8, 8, trainer.gan.value_range)
    per_epoch = datalib.batches_per_epoch(len(trainer.dataset.images), cfg.batch_size)
    return [dict(figures, seconds=round(s, 1), iteration=i, epochs=round(i / per_epoch, 3)) for s, i, figures in curve]


def table(curves):
    lines = ['| run | minutes | iterations (epochs) | FID | KID x 1000 | precision | recall |', '|---|---|---|---|---|---|---|']
    for label, points in curves.items():
        for p in points:
            lines.append(f"| {label} | {p['seconds'] / 60:.1f} | {p['iteration']} ({p['epochs']:.2f}) | "
                         f"{p['frechet_distance']:.1f} | {1000 * p['kernel_distance']:.3f} | "
                         f"{p.get('precision', float('nan')):.3f} | {p.get('recall', float('nan')):.3f} |")
    return '\n'.join(lines)


def plot(path, title, curves):
    fig, axes = curves_figure(curves, 'kernel_distance')
    for ax, name in zip(axes, ('Frechet distance', 'kernel distance')):
        ax.set_yscale('log')
        ax.set_ylabel(f'{name} (the data\'s judge, lower is better)')
    save_curves_figure(fig, axes, path, title, 'training minutes')


def write(out, header, curves):
    with open(out + '.md', 'w') as f:
        f.write(header + table(curves) + '\n')
    with open(out + '.json', 'w') as f:
        json.dump(curves, f, indent=1)
    plot(out + '.png', os.path.basename(out), curves)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--name', required=True, help='the name of the outputs: bench/own-pictures-NAME.*')
    parser.add_argument('--run', action='append', required=True,
                        help="LABEL=train.py OPTIONS (or CGAN/train.py); give it once for each run")
    parser.add_argument('--minutes', type=float, default=10.0, help='training minutes of each run')
    parser.add_argument('--points', type=int, default=4, help='judged points of each run, evenly spread')
    parser.add_argument('--out-dir', default=os.path.join(ROOT, 'bench'), help='where the outputs go')
    args = parser.parse_args(argv)
    if args.minutes <= 0 or args.points < 1:
        raise UserError("--minutes must be above 0 and --points at least 1")
    runs = [parse_run(text) for text in args.run]
    if len({(cfg.dataset, os.path.abspath(cfg.data_dir or '')) for _, cfg, _ in runs}) > 1:
        raise UserError("every --run must train on the same data (one judge ranks them)")
    cfg = runs[0][1]
    judge = find_judge(cfg.dataset, cfg.data_dir)
    out = os.path.join(args.out_dir, f'own-pictures-{args.name}')
    header = (f"# {args.name}: time to quality, {args.minutes:g} minutes a run\n\n"
              f"- Started {datetime.datetime.now():%Y-%m-%d %H:%M}; machine: {machine()}\n"
              f"- Versions: Python {platform.python_version()}, mxnet {mx.__version__}, numpy {np.__version__}\n"
              f"- Judge: {judge.name}; 10,000 samples of each run's moving-average generator at each point\n"
              + ''.join(f"- {label}: `{command}`\n" for label, _, command in runs) + '\n')
    print(header, flush=True)
    curves = {}
    with tempfile.TemporaryDirectory() as folder:
        for label, cfg, _ in runs:
            curves[label] = run_one(label, cfg, args.minutes, args.points, judge, folder, f'{out}-{label}.png')
            write(out, header, curves)  # after each run: a stopped bench keeps what it measured
    print(table(curves))
    return 0


if __name__ == '__main__':
    sys.exit(run_main(main))
