"""The cost of training on the parameter server (--kvstore dist_sync), measured on this machine.

    python3 bench/distributed.py                 # the CGAN, 60 timed iterations per setting
    python3 bench/distributed.py --models cgan deep_convolution --iterations 20

For each model, in one run: one process (no kvstore); 1 worker + 1 server (the same work plus sending
every gradient to the server and back: the communication cost per iteration, in ms); 2 workers + 1
server (each worker trains half of every batch). Each setting trains the model's default batch on
random images for a few warm-up iterations, then times ``--iterations`` more. Prints the machine, the
versions, images per second, ms per iteration, the ms spent in the gradient exchange, and the model's
gradient bytes; then what k machines should give at a stated network bandwidth (docs/distributed.md).
"""
import argparse
import dataclasses
import json
import logging
import os
import platform
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
sys.path.insert(0, os.path.join(ROOT, 'bench'))

WARMUP = 5


def measure(model, iterations, distributed):
    """Time ``iterations`` training steps of ``model`` in this process; returns a dict of figures."""
    import core  # noqa: F401  (sets the thread count before mxnet loads)
    import mxnet as mx
    import numpy as np
    from throughput import MODELS
    from core.training import GAN

    cfg = dataclasses.replace(MODELS[model](), context='cpu').resolved()
    cluster = None
    if distributed:
        from core.training.distributed import Cluster
        cluster = Cluster('dist_sync')
    gan = GAN(cfg, [mx.cpu()], cluster)
    gan.materialize()
    gan.start_workers_alike()
    exchange = [0.0]
    if cluster:  # time the gradient exchange itself
        sum_gradients = cluster.sum_gradients

        def timed(net):
            mx.nd.waitall()
            start = time.perf_counter()
            sum_gradients(net)
            mx.nd.waitall()
            exchange[0] += time.perf_counter() - start
        cluster.sum_gradients = timed
    share = gan.share_size
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (share, cfg.channels or 1, cfg.image_size, cfg.image_size)).astype(np.uint8)
    labels = rng.integers(0, max(cfg.num_classes, 1), share)
    noise = rng.uniform(-1, 1, (share, cfg.noise_dim)).astype(np.float32)
    for i in range(WARMUP):
        gan.step(images, labels, noise, i)
    mx.nd.waitall()
    exchange[0] = 0.0
    start = time.perf_counter()
    for i in range(iterations):
        gan.step(images, labels, noise, WARMUP + i)
    mx.nd.waitall()
    seconds = time.perf_counter() - start
    gradient_bytes = sum(p.data().size * 4 for net in (gan.generator, gan.discriminator)
                         for p in net.collect_params().values() if p.grad_req != 'null')
    return dict(model=model, batch_size=cfg.batch_size, workers=cluster.num_workers if cluster else 0,
                rank=cluster.rank if cluster else 0, ms_per_iteration=1000 * seconds / iterations,
                images_per_second=iterations * cfg.batch_size / seconds,
                exchange_ms_per_iteration=1000 * exchange[0] / iterations, gradient_bytes=gradient_bytes)


def run_setting(model, iterations, workers):
    """One setting in fresh processes: 0 workers means a plain process. Returns worker 0's figures."""
    command = [sys.executable, os.path.abspath(__file__), '--measure', model, '--iterations', str(iterations)]
    if workers:
        command = [sys.executable, '-m', 'core.launch', '--workers', str(workers), '--servers', '1', '--',
                   *command, '--distributed']
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=3600)
    if result.returncode:
        raise SystemExit(f"{' '.join(command)} failed:\n{result.stdout[-2000:]}{result.stderr[-2000:]}")
    rows = [json.loads(line.split('RESULT ', 1)[1]) for line in result.stdout.splitlines() if 'RESULT ' in line]
    return next(row for row in rows if row['rank'] == 0)


def cluster_estimate(row, compute_ms, machines, gigabits):
    """ms per iteration on ``machines`` machines, one worker each, servers spread over them.

    Each worker computes its share (compute_ms / k), then sends its gradients (P bytes) and receives their
    sum (P bytes) over its own link; k servers each take 1/k of every key, so no server link carries
    more than a worker's. Time = compute / k + 2P / bandwidth + the fixed cost measured here.
    """
    bandwidth = gigabits * 1e9 / 8  # bytes per second
    transfer_ms = 1000 * 2 * row['gradient_bytes'] / bandwidth
    return compute_ms / machines + transfer_ms + row['fixed_ms']


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--models', nargs='+', default=['cgan'])
    parser.add_argument('--iterations', type=int, default=60)
    parser.add_argument('--gigabits', type=float, default=10.0, help='network bandwidth for the cluster estimate')
    parser.add_argument('--measure', default=None, help=argparse.SUPPRESS)
    parser.add_argument('--distributed', action='store_true', help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.measure:
        logging.basicConfig(level=logging.INFO, format='%(message)s')  # the rank line the launcher waits for
        print('RESULT ' + json.dumps(measure(args.measure, args.iterations, args.distributed)), flush=True)
        return 0
    import mxnet as mx
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores; python "
          f"{platform.python_version()}, mxnet {mx.__version__}")
    print(f"each setting: {WARMUP} warm-up + {args.iterations} timed iterations of the default batch, "
          "random images, in fresh processes on 127.0.0.1\n")
    print("| model | setting | ms / iteration | images / s | gradient exchange, ms / iteration | ratio to one process |")
    print("|---|---|---|---|---|---|")
    for model in args.models:
        rows = {'one process': run_setting(model, args.iterations, 0),
                '1 worker + 1 server': run_setting(model, args.iterations, 1),
                '2 workers + 1 server': run_setting(model, args.iterations, 2)}
        base = rows['one process']
        for name, row in rows.items():
            print(f"| {model} (batch {row['batch_size']}) | {name} | {row['ms_per_iteration']:.1f} | "
                  f"{row['images_per_second']:.1f} | {row['exchange_ms_per_iteration']:.1f} | "
                  f"{base['ms_per_iteration'] / row['ms_per_iteration']:.2f} |")
        one = rows['1 worker + 1 server']
        one['fixed_ms'] = one['exchange_ms_per_iteration']  # loopback: the exchange's cost without a network
        print(f"\n{model}: {one['gradient_bytes'] / 1e6:.1f} MB of gradients per iteration (G and D, float32); "
              f"exchange on loopback {one['exchange_ms_per_iteration']:.1f} ms per iteration "
              f"(1 worker + 1 server minus one process: "
              f"{one['ms_per_iteration'] - base['ms_per_iteration']:.1f} ms)")
        for machines in (2, 4, 8):
            estimate = cluster_estimate(one, base['ms_per_iteration'], machines, args.gigabits)
            print(f"  {machines} machines like this one at {args.gigabits:g} Gbit/s: about {estimate:.0f} ms per "
                  f"iteration, {base['ms_per_iteration'] / estimate:.2f}x one machine")
        print()
    return 0


if __name__ == '__main__':
    sys.exit(main())
