"""Where the time of one training iteration goes: mxnet's profiler, per operator (a benchmark, not a test).

    python3 bench/op_profile.py                   # lenet5, deep_convolution and the CGAN, 5 iterations each
    python3 bench/op_profile.py --models cgan --iterations 10 --top 20
    python3 bench/op_profile.py --models cgan --recipe seed      # the seed's recipe at its batch of 128

For each model: the wall time of the profiled iterations, then the operators that took the most time in all,
with their share of the summed operator time. Hybridized graphs normally run their operators in bulk segments,
which the profiler reports as one entry; this script turns bulking off (MXNET_EXEC_BULK_EXEC_*=0, before mxnet
loads) so that each operator is timed on its own, at some cost in speed. `--bulk` keeps it on.
"""
import argparse
import dataclasses
import json
import os
import platform
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
sys.path.insert(0, os.path.join(ROOT, 'bench'))

if '--bulk' not in sys.argv:
    os.environ.setdefault('MXNET_EXEC_BULK_EXEC_TRAIN', '0')
    os.environ.setdefault('MXNET_EXEC_BULK_EXEC_INFERENCE', '0')

import core  # noqa: E402,F401  (sets the thread count before mxnet loads)
import mxnet as mx  # noqa: E402

from core.training import GAN  # noqa: E402
from throughput import MODELS, machine, random_batch  # noqa: E402


def operator_table(stats, top):
    """[(operator, calls, total ms, share)] of the ``top`` costliest operators, from the profiler's JSON."""
    totals = {}
    for domain, operators in stats.get('Time', {}).items():
        if domain != 'operator':
            continue  # API calls and memory events: not operator work
        for name, figures in operators.items():
            calls, total = totals.get(name, (0, 0.0))
            totals[name] = (calls + figures['Count'], total + figures['Total'])
    everything = sum(total for _, total in totals.values()) or 1.0
    rows = sorted(((name, calls, total, total / everything) for name, (calls, total) in totals.items()),
                  key=lambda row: -row[2])
    return rows[:top], everything


def profile(name, iterations, warmup, top, recipe=None):
    cfg = MODELS[name]()
    cfg = (dataclasses.replace(cfg, recipe=recipe, batch_size=None) if recipe else cfg).validate()
    gan = GAN(cfg, mx.cpu())
    gan.materialize()
    images, labels, noise = random_batch(cfg)
    for _ in range(warmup):
        gan.step(images, labels, noise)
    with tempfile.TemporaryDirectory() as folder:
        mx.profiler.set_config(profile_all=True, aggregate_stats=True, filename=os.path.join(folder, 'trace.json'))
        mx.profiler.set_state('run')
        start = time.perf_counter()
        for _ in range(iterations):
            gan.step(images, labels, noise)
        mx.nd.waitall()
        wall = time.perf_counter() - start
        mx.profiler.set_state('stop')
        stats = json.loads(mx.profiler.dumps(reset=True, format='json'))
    rows, everything = operator_table(stats, top)
    print(f"\n## {name}, {cfg.recipe} recipe (batch {cfg.batch_size}): {iterations} iterations in {wall:.2f} s "
          f"({wall / iterations * 1000:.0f} ms each); operator time {everything / iterations:.0f} ms per iteration\n")
    print("| operator | calls per iteration | ms per iteration | share |")
    print("|---|---|---|---|")
    for op, calls, total, share in rows:
        print(f"| {op} | {calls / iterations:g} | {total / iterations:.1f} | {share:.1%} |")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--models', nargs='+', default=list(MODELS), choices=list(MODELS))
    parser.add_argument('--iterations', type=int, default=5)
    parser.add_argument('--warmup', type=int, default=2)
    parser.add_argument('--top', type=int, default=12)
    parser.add_argument('--recipe', choices=('seed', 'tuned'), help="the recipe, at its own batch (default: the model's)")
    parser.add_argument('--bulk', action='store_true', help='keep bulk execution (segments, not operators)')
    args = parser.parse_args(argv)
    print(f"# Operator profile\n\n- Machine: {machine()}\n- Versions: Python {platform.python_version()}, "
          f"mxnet {mx.__version__}, OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS')}, "
          f"bulk execution {'on' if args.bulk else 'off'}")
    for name in args.models:
        profile(name, args.iterations, args.warmup, args.top, args.recipe)
    return 0


if __name__ == '__main__':
    sys.exit(main())
