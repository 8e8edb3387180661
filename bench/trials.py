"""Short trials of training settings: each variant trains for a few hundred iterations, judged every N.

    python3 bench/trials.py --model cgan --iterations 300 \\
        --variant seed recipe=seed --variant tuned recipe=tuned --variant hinge loss=hinge

Each variant starts from the model's defaults (``--model``: cgan, lenet5 or deep_convolution), then applies
its KEY=VALUE settings (config fields, as on the command line but with underscores). Every ``--every``
iterations the sampling generator draws ``--samples`` samples, judged by the MNIST judge (the same noise for
every variant). Prints one row per judgement and appends them to bench/trials.jsonl. Run one trial at a
time: two trainings at once on a 2-core machine measure each other.

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
from core.judge import judge_generator, load_judge, reference_statistics  # noqa: E402

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


def run_variant(name, changes, model, iterations, every, count, judge, reference, dataset):
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
            figures = judge_generator(judge, trainer.gan.generate, noise, cfg.num_classes, reference,
                                      trainer.gan.value_range)
            recent = trainer.state.history[-every:]
            row = dict(variant=name, model=model, changes=changes, batch_size=cfg.batch_size, iteration=target,
                       train_seconds=round(trained, 1),
                       loss_D=round(sum(h['loss_D'] for h in recent) / len(recent), 4),
                       loss_G=round(sum(h['loss_G'] for h in recent) / len(recent), 4),
                       frechet_distance=round(figures['frechet_distance'], 2),
                       classifier_score=round(figures['classifier_score'], 3),
                       class_evenness=round(figures['class_evenness'], 3),
                       conditional_accuracy=figures.get('conditional_accuracy'))
            rows.append(row)
            print(f"{name:>24} it {target:5d} {trained:7.1f}s  FID {row['frechet_distance']:7.2f}  "
                  f"score {row['classifier_score']:5.2f}  even {row['class_evenness']:.3f}  "
                  f"acc {row['conditional_accuracy'] if row['conditional_accuracy'] is not None else '-'}  "
                  f"D {row['loss_D']:.3f} G {row['loss_G']:.3f}", flush=True)
        return rows


def describe(row):
    """A trial's settings as a short text: what it changes from the seed recipe, and any temporary lever."""
    changes = {k: v for k, v in row['changes'].items() if (k, v) != ('recipe', 'seed')}
    text = ', '.join(f'{k} {v}' for k, v in changes.items()) or 'the seed recipe'
    return text + (f'; {row["lever"]}' if 'lever' in row else '')


def summary_table(path):
    """A Markdown table of every trial in ``path``: FID at each judged iteration, the last point's other figures."""
    trials = {}
    for line in open(path):
        row = json.loads(line)
        trials.setdefault((row['model'], row['variant']), {})[row['iteration']] = row  # a rerun replaces
    lines = ['| model | trial | settings | FID at 100, 200, ... iterations | last: score, evenness, '
             'cond. accuracy | train s |', '|---|---|---|---|---|---|']
    for (model, variant), points in sorted(trials.items(), key=lambda item: item[0][0]):
        last = points[max(points)]
        fids = ', '.join(f"{points[i]['frechet_distance']:.0f}" for i in sorted(points))
        accuracy = last['conditional_accuracy']
        lines.append(f"| {model} | {variant} | {describe(last)} | {fids} | {last['classifier_score']:.2f}, "
                     f"{last['class_evenness']:.2f}, {'-' if accuracy is None else f'{accuracy:.2f}'} | "
                     f"{last['train_seconds']:.0f} |")
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
    reference = reference_statistics(judge)
    dataset = datalib.prepare_dataset(MODELS[args.model]())
    stamp = datetime.datetime.now().isoformat(timespec='seconds')
    for name, changes in variants:
        rows = run_variant(name, changes, args.model, args.iterations, args.every, args.samples, judge, reference,
                           dataset)
        with open(args.out, 'a') as f:
            for row in rows:
                f.write(json.dumps(dict(row, date=stamp)) + '\n')
    return 0


if __name__ == '__main__':
    sys.exit(main())
