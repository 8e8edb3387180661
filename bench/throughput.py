"""Training and sampling speed of each model, ours against a PyTorch peer, in one run (a benchmark, not a test).

    python3 bench/throughput.py            # all three models; writes bench/RESULTS.md
    python3 bench/throughput.py --models cgan --iterations 5

Prints the machine, the versions, the machine's float32 peak (a 4096^2 sgemm, measured in this run), and per
model: training images/s for one D+G iteration at the configured batch size (hybridized and imperative),
sampling images/s from the exported generator, the share of the peak reached, and ours/peer ratios. Each model is
measured in a fresh process, ours and the peer alike.
The peer runs in its own virtual environment (bench/.venv-torch, made on first use with
`pip install torch==2.13.0`), since gluoncv refuses to import beside torch >= 2.
"""
import argparse
import dataclasses
import datetime
import json
import os
import platform
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

import core  # noqa: E402,F401  (sets the thread count before mxnet loads)
import mxnet as mx  # noqa: E402
import numpy as np  # noqa: E402
from mxnet import autograd  # noqa: E402
from mxnet.gluon import nn  # noqa: E402

from CGAN.config import cgan_config  # noqa: E402
from core.config import GANConfig  # noqa: E402
from core.export.mxnet import export_pair  # noqa: E402
from core.networks import batch_multiple  # noqa: E402
from core.sampling import ExportedGenerator, find_generator  # noqa: E402
from core.training import GAN  # noqa: E402

PEER_ENV = os.path.join(ROOT, 'bench', '.venv-torch')
MODELS = {
    'lenet5': lambda: GANConfig(discriminator_type='lenet5', context='cpu'),
    'deep_convolution': lambda: GANConfig(discriminator_type='deep_convolution', context='cpu'),
    'cgan': lambda: GANConfig(**{**cgan_config().to_dict(), 'context': 'cpu'}),
}


def measuring_trainer(cfg, folder, progress=None, dataset=None, **changes):
    """A set-up Trainer for benchmarks: it only trains (no grids, windows, checkpoints or judging of its own).

    Its run lives in ``folder``; ``changes`` (config fields) are applied last.
    The caller sets ``max_iters`` or stops it through ``progress``.
    """
    from core.training import Trainer, prepare_run
    cfg = dataclasses.replace(cfg, epochs=1000, if_drawing=False, draw_iter_num=10 ** 9, if_save_params=False,
                              evaluate=False, output_dir=folder, **changes)
    cfg, run, _ = prepare_run(cfg, {}, resume=False)
    trainer = Trainer(cfg, run, progress, dataset=dataset)
    trainer.setup()
    return trainer


def sgemm_peak(size=4096, repeats=5):
    """float32 GFLOP/s of mxnet's dot on two size x size matrices (the best of ``repeats``)."""
    a, b = mx.nd.random.uniform(shape=(size, size)), mx.nd.random.uniform(shape=(size, size))
    mx.nd.dot(a, b).wait_to_read()
    best = 0.0
    for _ in range(repeats):
        start = time.perf_counter()
        mx.nd.dot(a, b).wait_to_read()
        best = max(best, 2 * size ** 3 / (time.perf_counter() - start) / 1e9)
    return best


def forward_flops(net, *inputs):
    """FLOPs of one forward pass per sample, counted from the shapes each conv/deconv/dense layer sees."""
    total = [0]

    def hook(block, args, output):
        x = args[0]
        if isinstance(block, nn.Dense):
            total[0] += 2 * int(np.prod(x.shape[1:])) * block._units
        else:  # Conv2D and Conv2DTranspose: each input-output channel pair meets k*k weights per position
            kh, kw = block._kwargs['kernel']
            positions = np.prod(x.shape[2:]) if isinstance(block, nn.Conv2DTranspose) else np.prod(output.shape[2:])
            total[0] += 2 * int(positions) * x.shape[1] * block._channels * kh * kw

    handles = []
    net.apply(lambda block: handles.append(block.register_forward_hook(hook))
              if isinstance(block, (nn.Dense, nn.Conv2D, nn.Conv2DTranspose)) else None)
    net.hybridize(False)  # hooks see each layer only in imperative mode
    net(*inputs)
    for handle in handles:
        handle.detach()
    return total[0]


def iteration_flops(gan, cfg):
    """FLOPs of one D+G iteration per image: a backward pass costs about two forward passes.

    G forward+backward once (3x): its images serve both updates.
    D step: D forward+backward on the real and the fake batch (2 x 3x). G step: D forward+backward (3x).
    The seed's arithmetic: the class planes' convolution counts in full, as the PyTorch peer computes it.
    """
    # Counts are per sample; lenet5's D takes whole groups (--stddev-group), and a batch of 1 leaves oneDNN
    # deconvolution weights in a layout that later batches reject (mxnet 1.9.1).
    batch = max(4, batch_multiple(cfg.discriminator_type, cfg.stddev_group))
    noise = mx.nd.random.uniform(-1, 1, (batch, cfg.noise_dim))
    cond = (mx.nd.zeros(batch),) if cfg.conditional else ()
    images = gan.generator(noise, *cond)
    g_flops = forward_flops(gan.generator, noise, *cond)
    d_flops = forward_flops(gan.discriminator, images, *(cond if gan.discriminator_takes_class else ()))
    return 3 * g_flops + 9 * d_flops


def random_batch(cfg):
    """(images, labels, noise) of one batch: random, since speed does not depend on the digits."""
    rng = np.random.default_rng(0)
    cfg = cfg.resolved()
    shape = (cfg.batch_size, cfg.channels or 1, cfg.image_size, cfg.image_size)
    images = rng.integers(0, 256, shape, dtype=np.uint8)
    labels = rng.integers(0, 10, cfg.batch_size)
    noise = rng.uniform(-1, 1, (cfg.batch_size, cfg.noise_dim)).astype(np.float32)
    return images, labels, noise


def time_training(gan, cfg, iterations, warmup):
    images, labels, noise = random_batch(cfg)
    for i in range(warmup):
        gan.step(images, labels, noise, i)
    start = time.perf_counter()
    for i in range(iterations):
        gan.step(images, labels, noise, warmup + i)  # each step ends in a host copy of its figures: synchronous
    return cfg.batch_size * iterations / (time.perf_counter() - start)


def time_sampling(gan, cfg, batch=256, rounds=5):
    with tempfile.TemporaryDirectory() as folder:
        export_pair(gan.sampler, gan.discriminator, folder, cfg, epoch=0, iteration=0)
        generator = ExportedGenerator(find_generator(folder, cfg.name))
        noise = generator.noise(batch, 0)
        labels = np.arange(batch) % 10 if cfg.conditional else None
        generator.generate(noise, labels, batch_size=batch)
        start = time.perf_counter()
        for _ in range(rounds):
            generator.generate(noise, labels, batch_size=batch)
        return batch * rounds / (time.perf_counter() - start)


def measure_ours(name, recipe, iterations, warmup, batch=None):
    """Our speeds for model ``name`` with ``recipe`` (at the recipe's batch size, or at ``batch``)."""
    cfg = dataclasses.replace(MODELS[name](), recipe=recipe, batch_size=batch).validate()
    gan = GAN(cfg, mx.cpu())
    gan.materialize()
    flops = iteration_flops(gan, cfg)
    for net in (gan.generator, gan.discriminator):
        net.hybridize(static_alloc=True, static_shape=True)
    hybrid = time_training(gan, cfg, iterations, warmup)
    sampling = time_sampling(gan, cfg)
    for net in (gan.generator, gan.discriminator):
        net.hybridize(False)
    imperative = time_training(gan, cfg, iterations, warmup)
    return {'batch': cfg.batch_size, 'flops_per_image': flops, 'hybrid': hybrid, 'imperative': imperative,
            'sampling': sampling}


def measure_ours_isolated(name, recipe, iterations, warmup, batch=None):
    """measure_ours in a fresh process: measured in one process after another model, the CGAN's speed
    varied from 127 to 161 images/s here (memory and oneDNN caches left by the model before)."""
    out = subprocess.run([sys.executable, os.path.abspath(__file__), '--ours-only', name, recipe, str(batch or 0),
                          '--iterations', str(iterations), '--warmup', str(warmup)],
                         capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def peer_python():
    python = os.path.join(PEER_ENV, 'bin', 'python')
    if not os.path.exists(python):
        print(f"creating {PEER_ENV} with torch==2.13.0 ...", file=sys.stderr)
        subprocess.run([sys.executable, '-m', 'venv', PEER_ENV], check=True)
        subprocess.run([python, '-m', 'pip', 'install', '-q', 'torch==2.13.0', 'numpy<2.3'], check=True)
    return python


def measure_peer(name, batch, iterations, warmup):
    out = subprocess.run([peer_python(), os.path.join(ROOT, 'bench', 'torch_peer.py'), '--model', name,
                          '--batch', str(batch), '--iterations', str(iterations), '--warmup', str(warmup)],
                         capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def machine():
    cpu = platform.processor() or platform.machine()
    try:
        with open('/proc/cpuinfo') as f:
            cpu = next(line.split(':', 1)[1].strip() for line in f if line.startswith('model name'))
    except (OSError, StopIteration):
        pass
    return f"{cpu}, {os.cpu_count()} cores, {platform.system()} {platform.release()}"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--models', nargs='+', default=list(MODELS), choices=list(MODELS))
    parser.add_argument('--iterations', type=int, default=8, help='timed iterations per measurement')
    parser.add_argument('--warmup', type=int, default=2)
    parser.add_argument('--out', default=os.path.join(ROOT, 'bench', 'RESULTS.md'))
    parser.add_argument('--ours-only', nargs=3, help=argparse.SUPPRESS)  # model, recipe, batch (0: the recipe's)
    args = parser.parse_args(argv)
    if args.ours_only:
        name, recipe, batch = args.ours_only
        print(json.dumps(measure_ours(name, recipe, args.iterations, args.warmup, int(batch) or None)))
        return 0

    peak = sgemm_peak()
    header = [f"Machine: {machine()}",
              f"Versions: Python {platform.python_version()}, mxnet {mx.__version__}, numpy {np.__version__}, "
              f"OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS')}",
              f"Date: {datetime.date.today().isoformat()}",
              f"float32 peak (4096^2 sgemm, mxnet): {peak:.0f} GFLOP/s"]
    rows = []
    for name in args.models:
        ours = measure_ours_isolated(name, 'seed', args.iterations, args.warmup)
        tuned = measure_ours_isolated(name, 'tuned', args.iterations, args.warmup)
        # The tuned recipe's own costs (moving average, mode seeking) apart from its smaller batch:
        same_batch = measure_ours_isolated(name, 'tuned', args.iterations, args.warmup, ours['batch'])
        peer = measure_peer(name, ours['batch'], args.iterations, args.warmup)
        share = ours['hybrid'] * ours['flops_per_image'] / 1e9 / peak
        rows.append(f"| {name} | {ours['batch']} / {tuned['batch']} | {ours['flops_per_image'] / 1e9:.2f} | "
                    f"{tuned['hybrid']:.1f} | {same_batch['hybrid']:.1f} | "
                    f"{ours['hybrid']:.1f} | {ours['imperative']:.1f} | {peer['train_images_per_s']:.1f} | "
                    f"{tuned['hybrid'] / peer['train_images_per_s']:.2f} | "
                    f"{ours['hybrid'] / peer['train_images_per_s']:.2f} | {share:.0%} | {ours['sampling']:.0f} | "
                    f"{peer['sample_images_per_s']:.0f} | {ours['sampling'] / peer['sample_images_per_s']:.2f} |")
        header_peer = f"Peer: PyTorch {peer['torch']} eager, CPU, {peer['threads']} threads"
        print(rows[-1], flush=True)
    table = ["| model | batch (seed / tuned) | GFLOP per image per iteration (seed maths) | ours, tuned recipe img/s | "
             "ours, tuned recipe at the seed's batch img/s | "
             "ours, seed recipe img/s | ours, seed recipe, imperative img/s | PyTorch (seed recipe) img/s | "
             "ratio tuned / PyTorch | ratio seed / PyTorch | share of peak (seed) | ours sampling img/s | "
             "PyTorch sampling img/s | sampling ratio |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"] + rows
    text = "# Throughput\n\n" + "\n".join(f"- {line}" for line in header + [header_peer]) + "\n\n" + \
           "\n".join(table) + "\n\nCommand: `python3 bench/throughput.py " + " ".join(argv or sys.argv[1:]) + "`\n"
    print(text)
    # The file's later sections (## ...: time to quality) belong to other benchmarks: keep them.
    try:
        with open(args.out) as f:
            old = f.read()
        later = old[old.index('\n## '):] if '\n## ' in old else ''
    except OSError:
        later = ''
    with open(args.out, 'w') as f:
        f.write(text + later)
    return 0


if __name__ == '__main__':
    sys.exit(main())
