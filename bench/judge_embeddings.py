"""Which embedding should judge data without labels? Measures the candidates on a labelled set.

    python3 bench/judge_embeddings.py --data-dir /usr/share/datasets/fashion-mnist \\
        --judge classifier=/usr/share/datasets/fashion-mnist/.gan-judge --judge rotation=/tmp/fashion-rotation

The labels are used only to grade the embeddings, never to train the ones that
would judge unlabelled data. For each embedding (raw pixels, an untrained
judge network, and every judge folder given) it prints:

- probe accuracy: test images classified by the nearest class mean of 10,000
  training images' features: how much of what people see as different the
  features keep;
- FID (and KID) of real training images against the test split, of the same
  images with half of the classes left out (a generator that drops modes),
  and of the same images with Gaussian pixel noise (sigma 0.2 in [-1, 1]);
- the mode-dropping share: FID(half the classes) / (FID(half the classes) +
  FID(noise)). An embedding near 1 cares about what is drawn, near 0 about
  pixel noise; a judge of GANs should see dropped modes.
"""
import argparse
import os
import platform
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
sys.path.insert(0, os.path.join(ROOT, 'bench'))

import core  # noqa: E402,F401  (sets the thread count before mxnet loads)
import mxnet as mx  # noqa: E402
import numpy as np  # noqa: E402

from throughput import machine  # noqa: E402
from core import data as datalib, metrics  # noqa: E402
from core.judge import Judge, JudgeNet, load_judge  # noqa: E402
from core.judge_training import JudgeData  # noqa: E402

SAMPLES = 10000


def pixel_features(images):
    return datalib.to_model_range(images).reshape(len(images), -1)


def untrained_judge(data, seed=0):
    """A judge network with its initial random weights: what the architecture alone gives."""
    mx.random.seed(seed)
    net = JudgeNet(10, prefix='judge_')
    net.initialize(mx.init.Xavier())
    net.hybridize(static_alloc=True)
    return Judge(net, {'name': 'untrained', 'kind': 'rotation', 'size': data.size, 'channels': data.channels})


def probe_accuracy(train_feats, train_labels, test_feats, test_labels):
    """Accuracy of the nearest class mean (Euclidean) in the feature space."""
    classes = np.unique(train_labels)
    means = np.stack([train_feats[train_labels == k].mean(0) for k in classes])
    distances = (means ** 2).sum(1)[None, :] - 2 * test_feats @ means.T  # |t|^2 is the same for every class
    return float((classes[distances.argmin(1)] == test_labels).mean())


def figures(features, reference):
    fid = metrics.frechet_distance(*metrics.feature_statistics(features), *metrics.feature_statistics(reference))
    return fid, metrics.kernel_distance(features, reference, subsets=20)


def measure(name, embed, data, real, labels, dropped, noisy):
    started = time.time()
    reference = embed(data.test.images)
    real_f = embed(real)
    row = {'embedding': name, 'dim': real_f.shape[1],
           'probe': probe_accuracy(real_f, labels, reference, data.test.labels)}
    row['fid_real'], row['kid_real'] = figures(real_f, reference)
    row['fid_dropped'], row['kid_dropped'] = figures(embed(dropped), reference)
    row['fid_noisy'], row['kid_noisy'] = figures(embed(noisy), reference)
    row['mode_share'] = row['fid_dropped'] / (row['fid_dropped'] + row['fid_noisy'])
    row['seconds'] = time.time() - started
    return row


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--dataset', default='idx', choices=('idx', 'cifar10', 'folder'))
    parser.add_argument('--data-dir', required=True)
    parser.add_argument('--judge', action='append', default=[], metavar='NAME=FOLDER', help='a trained judge to grade')
    args = parser.parse_args(argv)
    data = JudgeData.load(args.dataset, args.data_dir)
    if data.reference is not data.test:
        parser.error('this bench needs a set with a test split and labels')
    rng = np.random.default_rng(0)
    pick = np.sort(rng.choice(len(data.train), min(SAMPLES, len(data.train)), replace=False))
    real, labels = np.asarray(data.train.images[pick]), data.train.labels[pick]
    kept = np.isin(data.train.labels, np.unique(data.train.labels)[::2])  # every other class
    dropped = np.asarray(data.train.images[np.sort(rng.choice(np.flatnonzero(kept), len(real), replace=False))])
    noisy = datalib.to_uint8(np.clip(datalib.to_model_range(real) + rng.normal(0, 0.2, real.shape), -1, 1))

    def judge_embedding(judge):
        return lambda images: judge.read(datalib.to_model_range(images))[1]

    embeddings = [('raw pixels', pixel_features), ('untrained judge network', judge_embedding(untrained_judge(data)))]
    for spec in args.judge:
        name, _, folder = spec.partition('=')
        embeddings.append((f'{name} judge', judge_embedding(load_judge(folder))))
    print(f"Machine: {machine()}")
    print(f"Versions: Python {platform.python_version()}, mxnet {mx.__version__}, numpy {np.__version__}")
    print(f"Data: {args.dataset} {args.data_dir}; {len(real)} training images against the test split "
          f"({len(data.test)}); half the classes: {sorted(np.unique(data.train.labels)[::2].tolist())}\n")
    print("| embedding | dim | probe accuracy | FID real | FID half the classes | FID noise 0.2 | mode-dropping share "
          "| KID real | KID half | KID noise | s |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for name, embed in embeddings:
        r = measure(name, embed, data, real, labels, dropped, noisy)
        print(f"| {r['embedding']} | {r['dim']} | {r['probe']:.3f} | {r['fid_real']:.2f} | {r['fid_dropped']:.2f} | "
              f"{r['fid_noisy']:.2f} | {r['mode_share']:.3f} | {r['kid_real']:.4f} | {r['kid_dropped']:.4f} | "
              f"{r['kid_noisy']:.4f} | {r['seconds']:.0f} |", flush=True)
    return 0


if __name__ == '__main__':
    sys.exit(main())
