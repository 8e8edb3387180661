"""Shared fixtures: tiny MNIST-format data written as real IDX files, and tiny trained runs."""
import dataclasses
import gzip
import os
import struct
import subprocess
import sys
import warnings

import numpy as np
import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
warnings.filterwarnings('ignore', category=DeprecationWarning, module='mxnet')

from core.config import GANConfig  # noqa: E402


def write_idx(path, array):
    """Write a uint8 array as an IDX file (gzipped when the name ends in .gz)."""
    header = bytes([0, 0, 0x08, array.ndim]) + struct.pack(f'>{array.ndim}I', *array.shape)
    opener = gzip.open if path.endswith('.gz') else open
    with opener(path, 'wb') as f:
        f.write(header + np.ascontiguousarray(array, dtype=np.uint8).tobytes())


def tiny_digits(n, seed=0):
    """28x28 'digits': class k is a bright bar at row 3 + 2k, with noise, so classes are learnable."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 10, n).astype(np.uint8)
    images = rng.integers(0, 40, (n, 28, 28)).astype(np.uint8)
    for i, k in enumerate(labels):
        images[i, 3 + 2 * k:5 + 2 * k, 4:24] = 250
    return images, labels


@pytest.fixture(scope='session')
def idx_dir(tmp_path_factory):
    """A folder with train (96 images, gzipped) and test (32 images, plain) IDX files."""
    folder = tmp_path_factory.mktemp('idx')
    images, labels = tiny_digits(96)
    write_idx(str(folder / 'train-images-idx3-ubyte.gz'), images)
    write_idx(str(folder / 'train-labels-idx1-ubyte.gz'), labels)
    images, labels = tiny_digits(32, seed=1)
    write_idx(str(folder / 't10k-images-idx3-ubyte'), images)
    write_idx(str(folder / 't10k-labels-idx1-ubyte'), labels)
    return str(folder)


ARCHITECTURES = [('lenet5', 0), ('deep_convolution', 0), ('conv28', 10), ('lenet5', 10), ('mlp', 0), ('maxout', 10),
                 ('infogan', 0)]


def tiny_config(idx_dir, arch, num_classes, **changes):
    """Settings for a few fast iterations of ``arch`` on the tiny data."""
    from core.networks import batch_multiple
    size = 64 if arch in ('lenet5', 'deep_convolution') else 28
    cfg = GANConfig(discriminator_type=arch, num_classes=num_classes, image_size=size, data_dir=idx_dir,
                    batch_size=max(8, batch_multiple(arch)), epochs=1, draw_iter_num=2, if_drawing=False, context='cpu',
                    model_name=f"{arch}{'-cond' if num_classes else ''}")
    return dataclasses.replace(cfg, **changes)


def run_script(*args, cwd=ROOT, timeout=300):
    """Run one of the project's scripts as a user would; returns the CompletedProcess."""
    return subprocess.run([sys.executable, *args], cwd=cwd, capture_output=True, text=True, timeout=timeout)


def onnx_outputs(sidecar, inputs):
    """The outputs of an export's ONNX file run by onnxruntime on numpy ``inputs`` (in the sidecar's order)."""
    import json

    import onnxruntime

    info = json.load(open(sidecar))
    session = onnxruntime.InferenceSession(os.path.join(os.path.dirname(sidecar), info['onnx_file']),
                                           providers=['CPUExecutionProvider'])
    return session.run(None, {name: x.astype(np.float32) for name, x in zip(info['input_names'], inputs)})


def checkpoint_weights(folder):
    """Every array of a checkpoint's .params files (G, D and, with a moving average, G's average), as numpy."""
    import glob

    import mxnet as mx

    return {f'{os.path.basename(path)}:{key}': value.asnumpy()
            for path in sorted(glob.glob(os.path.join(folder, '*.params')))
            for key, value in mx.nd.load(path).items()}


def assert_same_weights(run_a, run_b):
    """The latest checkpoints of two runs hold the same weights (up to float rounding): how resume tests compare."""
    a, b = checkpoint_weights(run_a.latest_checkpoint()), checkpoint_weights(run_b.latest_checkpoint())
    assert a.keys() == b.keys()
    for key in a:
        np.testing.assert_allclose(a[key], b[key], rtol=1e-5, atol=1e-7, err_msg=key)


def write_cifar10_batch(path, images, labels):
    """Write CIFAR-10 binary records: one label byte, then 3,072 pixel bytes (R, G, B planes) per image."""
    records = np.concatenate([np.asarray(labels, np.uint8)[:, None],
                              np.asarray(images, np.uint8).reshape(len(labels), -1)], axis=1)
    records.tofile(path)


def tiny_colour_pictures(n, size=32, seed=0):
    """(N, 3, size, size) 'pictures' and labels: class k is a coloured square, red for 0, green for 1, blue for 2."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 3, n)
    images = rng.integers(0, 40, (n, 3, size, size)).astype(np.uint8)
    for i, k in enumerate(labels):
        images[i, k, size // 4:3 * size // 4, size // 4:3 * size // 4] = 230
    return images, labels


@pytest.fixture(scope='session')
def picture_dir(tmp_path_factory):
    """A folder of real PNG and JPEG files in two class subfolders (24 pictures of assorted sizes and modes)."""
    from PIL import Image
    folder = tmp_path_factory.mktemp('pictures')
    images, labels = tiny_colour_pictures(24, size=40)
    for i, (image, label) in enumerate(zip(images, labels)):
        name = ('circles', 'squares')[i % 2]
        os.makedirs(folder / name, exist_ok=True)
        picture = Image.fromarray(image.transpose(1, 2, 0))
        if i % 3 == 0:
            picture = picture.resize((60, 40))  # wider than tall: scaled and centre-cropped
        if i % 4 == 1:
            picture.save(folder / name / f'{i:02d}.jpg', quality=95)
        else:
            picture.save(folder / name / f'{i:02d}.png')
    return str(folder)
