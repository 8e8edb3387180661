"""What a judge network learns, one class a kind: to name classes, to name a rotation, or to match two views.

Each task gives the network's output count, the loss of one batch (called
inside ``autograd.record()``), and an accuracy on held-out images that says
whether the training worked. core/judge_training.py runs the loop, and
docs/quality.md has the measurement that chose the default for unlabelled data.
"""
import mxnet as mx
import numpy as np
from mxnet import gluon

from . import data as datalib
from .judge import Judge

ROTATIONS = 4
PROJECTION = 64  # the contrastive head's width (the 128 features below it are what the judge compares)
TEMPERATURE = 0.5  # SimCLR's for small images
ACCURACY_SAMPLES = 1000  # held-out images whose two views the contrastive accuracy pairs


def _model_input(images_uint8):
    return mx.nd.array(datalib.to_model_range(images_uint8))


def _predictions(net, images):
    """The arg-max of the network's outputs for float (N, C, S, S) images in [-1, 1], read as a judge reads."""
    return Judge(net, {'size': images.shape[-1], 'channels': images.shape[1]}).read(images)[0].argmax(axis=1)


class ClassifierTask:
    """Name each picture's class (its label or subfolder)."""

    name = 'classifier'
    accuracy_of = 'classes'

    def __init__(self):
        self.loss = gluon.loss.SoftmaxCrossEntropyLoss()

    def outputs(self, data):
        return len(data.class_names)

    def batch_loss(self, net, images, labels, rng):
        return self.loss(net(_model_input(images)), mx.nd.array(labels))

    def accuracy(self, net, test, rng):
        images = datalib.to_model_range(np.asarray(test.images))
        return float((_predictions(net, images) == test.labels).mean())


def rotated(images, turns):
    """(N, C, S, S) images, each turned by ``turns[i]`` quarter turns counter-clockwise."""
    out = np.empty_like(images)
    for k in range(ROTATIONS):
        chosen = turns == k
        out[chosen] = np.rot90(images[chosen], k, axes=(2, 3))
    return out


class RotationTask(ClassifierTask):
    """Name how far each picture was turned: 0, 90, 180 or 270 degrees (Gidaris et al. 2018)."""

    name = 'rotation'
    accuracy_of = 'rotations'

    def outputs(self, data):
        return ROTATIONS

    def batch_loss(self, net, images, labels, rng):
        turns = rng.integers(0, ROTATIONS, len(images))
        return self.loss(net(_model_input(rotated(images, turns))), mx.nd.array(turns))

    def accuracy(self, net, test, rng):
        turns = np.arange(len(test.images)) % ROTATIONS  # each picture turned in turn by 0, 1, 2, 3 quarters
        images = datalib.to_model_range(rotated(np.asarray(test.images), turns))
        return float((_predictions(net, images) == turns).mean())


def augmented(images, rng):
    """A random view of each uint8 (N, C, S, S) picture, as float32 in [-1, 1].

    Shifted by up to an eighth of its size (the border filled with black),
    mirrored half of the time, its brightness and contrast jittered, and a
    square of a quarter of its side blacked out: changes that keep what a
    picture shows, so the views of one picture must stay close.
    """
    n, channels, size, _ = images.shape
    pad = max(1, size // 8)
    padded = np.full((n, channels, size + 2 * pad, size + 2 * pad), -1.0, np.float32)
    padded[:, :, pad:pad + size, pad:pad + size] = datalib.to_model_range(images)
    out = np.empty((n, channels, size, size), np.float32)
    shifts = rng.integers(0, 2 * pad + 1, (n, 2))
    for i, (dy, dx) in enumerate(shifts):
        out[i] = padded[i, :, dy:dy + size, dx:dx + size]
    mirror = rng.random(n) < 0.5
    out[mirror] = out[mirror, :, :, ::-1]
    contrast = rng.uniform(0.6, 1.4, (n, 1, 1, 1)).astype(np.float32)
    brightness = rng.uniform(-0.3, 0.3, (n, 1, 1, 1)).astype(np.float32)
    out = np.clip(out * contrast + brightness, -1, 1)
    side = max(1, size // 4)
    corners = rng.integers(0, size - side + 1, (n, 2))
    for i, (y, x) in enumerate(corners):
        out[i, :, y:y + side, x:x + side] = -1
    return out


class ContrastiveTask:
    """Tell two random views of one picture from the views of all others in the batch (SimCLR, Chen et al. 2020).

    The loss is NT-Xent: the cosine similarities of the head's outputs,
    divided by a temperature, in a softmax over the other 2N - 1 views.
    """

    name = 'contrastive'
    accuracy_of = 'view pairs'

    def __init__(self):
        self.loss = gluon.loss.SoftmaxCrossEntropyLoss()

    def outputs(self, data):
        return PROJECTION

    def similarities(self, net, views):
        z = net(mx.nd.array(views))
        z = z / (mx.nd.norm(z, axis=1, keepdims=True) + 1e-8)
        sim = mx.nd.dot(z, z, transpose_b=True) / TEMPERATURE
        return sim - 1e9 * mx.nd.eye(len(views), ctx=sim.context)  # a view is not its own pair

    def batch_loss(self, net, images, labels, rng):
        n = len(images)
        views = np.concatenate([augmented(images, rng), augmented(images, rng)])
        partners = np.concatenate([np.arange(n, 2 * n), np.arange(n)])
        return self.loss(self.similarities(net, views), mx.nd.array(partners))

    def accuracy(self, net, test, rng):
        """The share of views whose most similar other view, among 2 x 1,000 held-out ones, is their pair."""
        images = np.asarray(test.images[:ACCURACY_SAMPLES])
        n = len(images)
        views = np.concatenate([augmented(images, rng), augmented(images, rng)])
        nearest = self.similarities(net, views).asnumpy().argmax(axis=1)
        return float((nearest == np.concatenate([np.arange(n, 2 * n), np.arange(n)])).mean())


TASKS = {task.name: task for task in (ClassifierTask, RotationTask, ContrastiveTask)}
