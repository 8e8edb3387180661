"""Images per second of one D+G training step: today's recipes against the code of an earlier commit.

    python3 bench/iteration_speed.py --before 862eeff --models cgan lenet5 --rounds 2

Measures the GAN step alone (no data loading, no progress bar) on random data, each measurement in a fresh
process, the earlier commit checked out in a temporary git worktree. The rounds alternate the trainers so that
a machine's slow minutes hit each of them; the best round counts. 862eeff is the last commit before the
recipes: it ran the generator twice per iteration and convolved the CGAN's class planes pixel by pixel.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# Run in a fresh process with the code under ``root`` first on the path: the
# project sets OMP_NUM_THREADS when core is imported, which must precede mxnet.
STEP = r'''
import json, sys, time
root, model, recipe, iterations = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
sys.path.insert(0, root)
from core.config import GANConfig
try:
    from core.training.gan import GAN
except ImportError:  # before core/training/ was a package
    from core.training import GAN
import mxnet as mx
import numpy as np
settings = dict(cgan=dict(discriminator_type='conv28', num_classes=10, image_size=28, batch_size=128),
                lenet5=dict(discriminator_type='lenet5'))[model]
if recipe != 'before':
    settings['recipe'] = recipe
cfg = GANConfig(**settings).validate()
gan = GAN(cfg, mx.cpu())
gan.materialize()
rng = np.random.default_rng(0)
images = rng.integers(0, 256, (cfg.batch_size, 1, cfg.image_size, cfg.image_size)).astype(np.uint8)
if not hasattr(cfg, 'channels'):  # before colour pictures, a step took gray images without a channel axis
    images = images[:, 0]
batch = (images, rng.integers(0, 10, cfg.batch_size), rng.uniform(-1, 1, (cfg.batch_size, 100)).astype(np.float32))
for _ in range(3):
    gan.step(*batch)
start = time.perf_counter()
for _ in range(iterations):
    gan.step(*batch)
print(json.dumps(cfg.batch_size * iterations / (time.perf_counter() - start)))
'''


def measure(root, model, recipe, iterations):
    out = subprocess.run([sys.executable, '-c', STEP, root, model, recipe, str(iterations)],
                         capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--before', default='862eeff', help='the earlier commit to compare with')
    parser.add_argument('--models', nargs='+', default=['cgan', 'lenet5'], choices=['cgan', 'lenet5'])
    parser.add_argument('--rounds', type=int, default=2)
    parser.add_argument('--iterations', type=int, default=12)
    args = parser.parse_args(argv)
    sys.path.insert(0, os.path.join(ROOT, 'bench'))
    from throughput import machine
    print(f"Machine: {machine()}")
    with tempfile.TemporaryDirectory() as folder:
        old = os.path.join(folder, 'before')
        subprocess.run(['git', '-C', ROOT, 'worktree', 'add', '-q', '--detach', old, args.before], check=True)
        try:
            print(f"| model | before ({args.before}) img/s | seed recipe img/s | tuned recipe img/s | "
                  f"seed / before | tuned / seed |\n|---|---|---|---|---|---|")
            for model in args.models:
                best = {}
                for _ in range(args.rounds):
                    for label, root in (('before', old), ('seed', ROOT), ('tuned', ROOT)):
                        speed = measure(root, model, label, args.iterations)
                        best[label] = max(best.get(label, 0.0), speed)
                print(f"| {model} | {best['before']:.1f} | {best['seed']:.1f} | {best['tuned']:.1f} | "
                      f"{best['seed'] / best['before']:.2f} | {best['tuned'] / best['seed']:.2f} |", flush=True)
        finally:
            subprocess.run(['git', '-C', ROOT, 'worktree', 'remove', '--force', old], check=False)
    return 0


if __name__ == '__main__':
    sys.exit(main())
