"""Short trials of training settings: each variant trains for a few hundred iterations, judged every N.

    python3 bench/trials.py --model cgan --iterations 300 \\
        --variant seed recipe=seed --variant tuned recipe=tuned --variant hinge loss=hinge

Each variant starts from the model's defaults (``--model``: cgan, lenet5 or deep_convolution), then applies
its KEY=VALUE settings (config fields, as on the command line but with underscores). Every ``--every``
iterations the sampling generator draws ``--samples`` samples, judged by the MNIST judge (the same noise for
every variant). Prints one row per judgement and appends them to bench/trials.jsonl. Run one trial at a
time: two trainings at once on a 2-core machine measure each other.

``--seeds 0 1 2`` trains every variant once per seed (weights, data order and noise all follow the seed) and
the table gives the mean over seeds with the range. One seed is not enough for lenet5: its tuned recipe gave
FID 211 after 900 iterations with seed 0 and 366 with seeds 1 and 2, a wider gap than any lever's.

    python3 bench/trials.py --table      # every recorded trial as a Markdown table
"""
import argparse
import dataclasses
import datetime
import json
import os
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
sys.path.insert(0, os.path.join(ROOT, 'bench'))

from throughput import MODELS, measuring_trainer  # noqa: E402
from core import data as datalib  # noqa: E402
from core.config import GANConfig  # noqa: E402
from core.judge import judge_generator, load_judge  # noqa: E402

FIELD_TYPES = {f.name: f.type for f in dataclasses.fields(GANConfig)}


def parse_value(key, text):
    """A KEY=VALUE setting's value, typed as the config field."""
    if key not in FIELD_TYPES:
        raise SystemExit(f"unknown setting {key!r}")
    kind = str(FIELD_TYPES[key])
    if 'bool' in kind:
        return text.lower() in ('1', 'true', 'yes')
    if 'float' in kind:
        return [float(v) for v in text.split(',')] if 'List' in kind else float(text)
    if 'int' in kind:
        return int(text)
    return text


def run_variant(name, changes, model, iterations, every, count, judge, dataset):
    with tempfile.TemporaryDirectory() as folder:
        trainer = measuring_trainer(MODELS[model](), os.path.join(folder, 'run'), dataset=dataset, **changes)
        cfg = trainer.cfg
        noise = datalib.fixed_noise(cfg.seed + 1, count, cfg.noise_dim, cfg.noise_range, cfg.noise_distribution)
        trained = 0.0
        rows = []
        for target in range(every, iterations + 1, every):
            trainer.cfg.max_iters = target
            start = time.perf_counter()
            trainer.train()
            trained += time.perf_counter() - start
            figures = judge_generator(judge, trainer.gan.generate, noise, cfg.num_classes,
                                      trainer.gan.value_range)
            recent = trainer.state.history[-every:]
            row = dict(variant=name, model=model, changes=changes, seed=cfg.seed, batch_size=cfg.batch_size,
                       iteration=target,
                       train_seconds=round(trained, 1),
                       loss_D=round(sum(h['loss_D'] for h in recent) / len(recent), 4),
                       loss_G=round(sum(h['loss_G'] for h in recent) / len(recent), 4),
                       frechet_distance=round(figures['frechet_distance'], 2),
                       classifier_score=round(figures['classifier_score'], 3),
                       class_evenness=round(figures['class_evenness'], 3),
                       conditional_accuracy=figures.get('conditional_accuracy'))
            rows.append(row)
            print(f"{name:>24} seed {cfg.seed} it {target:5d} {trained:7.1f}s  FID {row['frechet_distance']:7.2f}  "
                  f"score {row['classifier_score']:5.2f}  even {row['class_evenness']:.3f}  "
                  f"acc {row['conditional_accuracy'] if row['conditional_accuracy'] is not None else '-'}  "
                  f"D {row['loss_D']:.3f} G {row['loss_G']:.3f}", flush=True)
        return rows


def describe(row):
    """A trial's settings as a short text: what it changes from the model's defaults, and any temporary lever."""
    changes = {k: v for k, v in row['changes'].items() if k != 'seed'}
    text = ', '.join(f'{k} {v}' for k, v in changes.items()) or 'the defaults'
    if changes.get('recipe') == 'seed' and len(changes) == 1:
        text = 'the seed recipe'
    return text + (f'; {row["lever"]}' if 'lever' in row else '')


def mean_and_range(values, digits=0):
    """``values`` as one number, or as 'mean (low-high)' when there are several (one per seed)."""
    if len(values) == 1:
        return f'{values[0]:.{digits}f}'
    return f'{sum(values) / len(values):.{digits}f} ({min(values):.{digits}f}-{max(values):.{digits}f})'


def summary_table(path):
    """A Markdown table of every trial in ``path``: FID at each judged iteration, the last point's other figures.

    Rows of one variant with different seeds are summarised as the mean over seeds and their range; a
    rerun of the same variant and seed replaces the earlier one. Rows written before trials recorded their
    seed ran with the config's default, 0.
    """
    trials = {}
    for line in open(path):
        row = json.loads(line)
        seeds = trials.setdefault((row['model'], row['variant']), {}).setdefault(row['iteration'], {})
        seeds[row.get('seed', 0)] = row
    lines = ['| model | trial | settings | seeds | FID at 100, 200, ... iterations | last: score, evenness, '
             'cond. accuracy | train s |', '|---|---|---|---|---|---|---|']
    for (model, variant), points in sorted(trials.items(), key=lambda item: item[0][0]):
        last = list(points[max(points)].values())
        fids = ', '.join(mean_and_range([r['frechet_distance'] for r in points[i].values()]) for i in sorted(points))
        accuracies = [r['conditional_accuracy'] for r in last if r['conditional_accuracy'] is not None]
        seeds = ', '.join(map(str, sorted({seed for by_seed in points.values() for seed in by_seed})))
        lines.append(f"| {model} | {variant} | {describe(last[0])} | {seeds} | "
                     f"{fids} | {mean_and_range([r['classifier_score'] for r in last], 2)}, "
                     f"{mean_and_range([r['class_evenness'] for r in last], 2)}, "
                     f"{mean_and_range(accuracies, 2) if accuracies else '-'} | "
                     f"{max(r['train_seconds'] for r in last):.0f} |")
    return '\n'.join(lines)


def main(argv=None):
    if argv is None and sys.argv[1:2] == ['--table'] or argv and argv[:1] == ['--table']:
        print(summary_table(os.path.join(ROOT, 'bench', 'trials.jsonl')))
        return 0
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--model', default='cgan', choices=list(MODELS))
    parser.add_argument('--iterations', type=int, default=300)
    parser.add_argument('--every', type=int, default=100)
    parser.add_argument('--samples', type=int, default=1000)
    parser.add_argument('--seeds', type=int, nargs='+', default=None,
                        help="train every variant once per seed (default: the config's seed)")
    parser.add_argument('--variant', nargs='+', action='append', metavar=('NAME', 'KEY=VALUE'), required=True,
                        help='a name, then its settings')
    parser.add_argument('--out', default=os.path.join(ROOT, 'bench', 'trials.jsonl'))
    args = parser.parse_args(argv)
    variants = []
    for name, *settings in args.variant:
        changes = {}
        for setting in settings:
            key, _, value = setting.partition('=')
            changes[key] = parse_value(key, value)
        variants.append((name, changes))
    judge = load_judge()
    dataset = datalib.prepare_dataset(MODELS[args.model]())
    stamp = datetime.datetime.now().isoformat(timespec='seconds')
    for name, changes in variants:
        for seed in args.seeds or [None]:
            seeded = changes if seed is None else dict(changes, seed=seed)
            rows = run_variant(name, seeded, args.model, args.iterations, args.every, args.samples, judge,
                               dataset)
            with open(args.out, 'a') as f:
                for row in rows:
                    f.write(json.dumps(dict(row, date=stamp)) + '\n')
    return 0


if __name__ == '__main__':
    sys.exit(main())
