"""Training and sampling speed of each model, ours against a PyTorch peer, in one run (a benchmark, not a test).

    python3 bench/throughput.py            # all three models, both recipes, the scripts too; writes bench/RESULTS.md
    python3 bench/throughput.py --models cgan --iterations 5 --no-scripts

Prints the machine, the versions, the machine's float32 peak (the best sgemm of several sizes, measured in this
run), and per model and recipe (seed and tuned, each at its own batch): training images/s of one iteration
(ours hybridized and imperative, and the PyTorch peer of the same recipe), sampling images/s from the exported
generator, the share of the peak reached, and ours/peer ratios. Then the same iterations through the real scripts
(``train.py``, ``CGAN/train.py``): ms per iteration from two runs of different lengths, so that start-up, export
and the first iteration's graph building cancel out, and everything the script does around the step (data,
progress bar, sample grids) counts. Each measurement runs in a fresh process, ours and the peer alike.
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
from mxnet.gluon import nn  # noqa: E402

from CGAN.config import cgan_config  # noqa: E402
from core import runtime  # noqa: E402
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


def sgemm_peak(sizes=(1024, 2048, 3072, 4096), repeats=5):
    """float32 GFLOP/s of mxnet's dot on square matrices: the best over ``sizes`` and ``repeats``.

    One 4096^2 product timed once gave shares of the peak of 188% and 308% on a machine whose speed moved
    under the benchmark: the best of several sizes and repeats is a peak that the networks' layers do not pass.
    """
    best = 0.0
    for size in sizes:
        a, b = mx.nd.random.uniform(shape=(size, size)), mx.nd.random.uniform(shape=(size, size))
        mx.nd.dot(a, b).wait_to_read()
        for _ in range(repeats):
            start = time.perf_counter()
            mx.nd.dot(a, b).wait_to_read()
            best = max(best, 2 * size ** 3 / (time.perf_counter() - start) / 1e9)
    return best


def share_of_peak(images_per_s, flops_per_image, peak):
    """'NN%' of the peak, or '-' where the figure would pass 100% (the peak was measured on a slow minute)."""
    share = images_per_s * flops_per_image / 1e9 / peak
    return f"{share:.0%}" if share <= 1 else '-'



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
    for net in (gan.generator, gan.discriminator, gan.discriminator_for_g):
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


def measure_peer(name, batch, iterations, warmup, recipe='seed'):
    out = subprocess.run([peer_python(), os.path.join(ROOT, 'bench', 'torch_peer.py'), '--model', name,
                          '--batch', str(batch), '--iterations', str(iterations), '--warmup', str(warmup),
                          '--recipe', recipe], capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


# What a user runs for each model; the bench adds --recipe, --max-iters and --output-dir.
SCRIPTS = {'lenet5': ['train.py', '--discriminator-type', 'lenet5'],
           'deep_convolution': ['train.py', '--discriminator-type', 'deep_convolution'],
           'cgan': ['CGAN/train.py']}
# Iterations of the short and the long script run per model and recipe: their difference is timed, about half a
# minute of training (deep_convolution's iterations take seconds each, the seed's batches of 64 and 128 more
# than the tuned recipe's 8 and 16).
SCRIPT_ITERATIONS = {('lenet5', 'seed'): (5, 55), ('lenet5', 'tuned'): (20, 170),
                     ('deep_convolution', 'seed'): (3, 13), ('deep_convolution', 'tuned'): (3, 13),
                     ('cgan', 'seed'): (5, 55), ('cgan', 'tuned'): (20, 320)}


def script_ms_per_iteration(name, recipe):
    """ms per iteration of the model's training script: two runs of different lengths, the difference timed."""
    short, long = SCRIPT_ITERATIONS[name, recipe]
    seconds = []
    for iterations in (short, long):
        with tempfile.TemporaryDirectory() as folder:
            start = time.perf_counter()
            subprocess.run([sys.executable, *SCRIPTS[name], '--recipe', recipe, '--max-iters', str(iterations),
                            '--output-dir', os.path.join(folder, 'run'), '--no-if-drawing'],
                           cwd=ROOT, capture_output=True, text=True, check=True)
            seconds.append(time.perf_counter() - start)
    return 1000 * (seconds[1] - seconds[0]) / (long - short)


def machine():
    """The CPU's model and widest vector extensions (one model name has come with and without AVX-512), cores, OS."""
    cpu, flags = platform.processor() or platform.machine(), runtime.cpu_flags()
    try:
        with open('/proc/cpuinfo') as f:
            cpu = next(line.split(':', 1)[1].strip() for line in f if line.startswith('model name'))
    except (OSError, StopIteration):
        pass
    vector = [name.upper() for name in ('avx2', 'avx512f', 'avx512_bf16') if name in flags]
    vector = f" ({', '.join(vector).replace('AVX512F', 'AVX-512')})" if vector else ''
    return f"{cpu}{vector}, {os.cpu_count()} cores, {platform.system()} {platform.release()}"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--models', nargs='+', default=list(MODELS), choices=list(MODELS))
    parser.add_argument('--iterations', type=int, default=8, help='timed iterations per measurement')
    parser.add_argument('--warmup', type=int, default=2)
    parser.add_argument('--out', default=os.path.join(ROOT, 'bench', 'RESULTS.md'))
    parser.add_argument('--scripts', action=argparse.BooleanOptionalAction, default=True,
                        help='also time the iterations through train.py and CGAN/train.py')
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
              f"float32 peak (best mxnet sgemm of 1024^2 to 4096^2): {peak:.0f} GFLOP/s"]
    rows, sampling_rows, header_peer = [], [], ''
    for name in args.models:
        for recipe in ('seed', 'tuned'):
            ours = measure_ours_isolated(name, recipe, args.iterations, args.warmup)
            peer = measure_peer(name, ours['batch'], args.iterations, args.warmup, recipe)
            peer_ms = 1000 * ours['batch'] / peer['train_images_per_s']
            # The arithmetic is counted for the seed's iteration (one D and one G update, no extra terms).
            share = share_of_peak(ours['hybrid'], ours['flops_per_image'], peak) if recipe == 'seed' else ''
            script = ''
            if args.scripts:
                ms = script_ms_per_iteration(name, recipe)
                script = f" {ms:.0f} | {peer_ms / ms:.2f} |"
            rows.append(f"| {name} | {recipe} | {ours['batch']} | {ours['hybrid']:.1f} | {ours['imperative']:.1f} | "
                        f"{peer['train_images_per_s']:.1f} ({peer['adam']} Adam) | "
                        f"{ours['hybrid'] / peer['train_images_per_s']:.2f} | {share} |" + script)
            print(rows[-1], flush=True)
            if recipe == 'seed':
                sampling_rows.append(f"| {name} | {ours['sampling']:.0f} | {peer['sample_images_per_s']:.0f} | "
                                     f"{ours['sampling'] / peer['sample_images_per_s']:.2f} |")
            header_peer = f"Peer: PyTorch {peer['torch']} eager, CPU, {peer['threads']} threads (bench/torch_peer.py)"
    script_columns = (" ours through the script, ms per iteration | ratio through the script |", "---|---|") \
        if args.scripts else ("", "")
    table = ["| model | recipe | batch | ours img/s | ours imperative img/s | PyTorch img/s | ratio ours / PyTorch | "
             "share of peak |" + script_columns[0],
             "|---|---|---|---|---|---|---|---|" + script_columns[1]] + rows
    sampling = ["| model | ours sampling img/s | PyTorch sampling img/s | ratio |", "|---|---|---|---|"] + sampling_rows
    notes = ("Share of peak: the seed recipe's arithmetic (one D and one G update) at ours' speed; '-' where it "
             "would pass 100% (the CGAN computes its class planes with less arithmetic than the seed's count). "
             "Through the script: `train.py` or `CGAN/train.py` as a user runs it, against the peer's bare loop.")
    text = "# Throughput\n\n" + "\n".join(f"- {line}" for line in header + [header_peer]) + "\n\n" + \
           "Training, one iteration of each recipe at its own batch (the same recipe in both frameworks):\n\n" + \
           "\n".join(table) + "\n\nSampling from the exported generator, batches of 256:\n\n" + \
           "\n".join(sampling) + "\n\n" + notes + \
           "\n\nCommand: `python3 bench/throughput.py " + " ".join(argv or sys.argv[1:]) + "`\n"
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
