"""CIFAR-10's binary files, folders of pictures, colour, and the memory-mapped cache: loading and every error."""
import dataclasses
import os

import numpy as np
import pytest

from conftest import tiny_colour_pictures, tiny_config, write_cifar10_batch
from core import data
from core.data import cifar10, folder as folders
from core.data.cache import CacheWriter
from core.data.resize import resize_images as plain_resize
from core.errors import UserError


@pytest.fixture
def cifar_dir(tmp_path):
    """cifar-10-batches-bin with 4 records in each of the six files."""
    for i, name in enumerate(cifar10.FILES['train'] + cifar10.FILES['test']):
        images, labels = tiny_colour_pictures(4, seed=i)
        write_cifar10_batch(str(tmp_path / name), images, labels * 3)  # labels 0, 3, 6
    return str(tmp_path)


def test_cifar10_binary_records_are_read_channel_first(cifar_dir):
    train = data.load_cifar10(cifar_dir, 'train')
    test = data.load_cifar10(cifar_dir, 'test')
    assert train.images.shape == (20, 3, 32, 32) and len(test) == 4
    images, labels = tiny_colour_pictures(4, seed=0)
    np.testing.assert_array_equal(train.images[:4], images)  # the first file's records, in order
    np.testing.assert_array_equal(train.labels[:4], labels * 3)
    assert train.class_names[3] == 'cat'


def test_cifar10_errors_say_what_is_wrong_and_where_to_get_the_files(cifar_dir, tmp_path):
    with pytest.raises(UserError, match='cifar-10-binary.tar.gz'):
        data.load_cifar10(str(tmp_path / 'nowhere'))
    path = os.path.join(cifar_dir, 'data_batch_3.bin')
    raw = open(path, 'rb').read()
    with open(path, 'wb') as f:
        f.write(raw[:-100])
    with pytest.raises(UserError, match='data_batch_3.bin is truncated'):
        data.load_cifar10(cifar_dir)
    os.remove(path)
    with pytest.raises(UserError, match='no data_batch_3.bin'):
        data.load_cifar10(cifar_dir)
    with open(path, 'wb') as f:  # right size, wrong content: CIFAR-100 style labels
        f.write(bytes([200]) + raw[1:])
    with pytest.raises(UserError, match='label 200'):
        data.load_cifar10(cifar_dir)


def test_cifar10_prepared_at_the_networks_size(cifar_dir):
    prepared = data.prepare_dataset(tiny_config(cifar_dir, 'lenet5', 0, dataset='cifar10', batch_size=4))
    assert prepared.images.shape == (20, 3, 64, 64) and prepared.channels == 3
    gray = data.prepare_dataset(tiny_config(cifar_dir, 'conv28', 0, dataset='cifar10', batch_size=4, channels=1))
    assert gray.images.shape == (20, 1, 28, 28)


def test_folder_classes_are_subfolders_and_pictures_are_fitted(picture_dir):
    paths, labels, names = folders.list_pictures(picture_dir)
    assert names == ['circles', 'squares'] and len(paths) == 24
    assert [os.path.basename(os.path.dirname(p)) for p in paths] == [names[k] for k in labels]
    assert {os.path.splitext(p)[1] for p in paths} == {'.png', '.jpg'}
    prepared = data.prepare_dataset(tiny_config(picture_dir, 'lenet5', 2, dataset='folder', batch_size=4))
    assert prepared.images.shape == (24, 3, 64, 64) and prepared.images.dtype == np.uint8
    assert prepared.class_names == names
    # Every picture kept its coloured square, at the centre: the crop is centred.
    images, colours = tiny_colour_pictures(24, size=40)
    picture_colour = {os.path.basename(p): colours[int(os.path.basename(p)[:2])] for p in paths}
    for path, image in zip(paths, prepared.images):
        centre = image[:, 24:40, 24:40].reshape(3, -1).mean(axis=1)
        assert centre.argmax() == picture_colour[os.path.basename(path)], path


def test_a_folder_picture_matches_pillow(picture_dir):
    from PIL import Image
    path = os.path.join(picture_dir, 'circles', '02.png')
    ours = folders.read_picture(path, 20, 3)
    theirs = np.asarray(Image.open(path).convert('RGB').resize((20, 20), Image.BILINEAR)).transpose(2, 0, 1)
    assert ours.shape == (3, 20, 20) and np.abs(ours.astype(int) - theirs).max() <= 1


def test_gray_folders_stay_gray_and_colour_wins(tmp_path):
    from PIL import Image
    for i in range(4):
        Image.fromarray(np.full((30, 30), 60 * i, np.uint8)).save(tmp_path / f'{i}.png')
    cfg = tiny_config(str(tmp_path), 'conv28', 0, dataset='folder', batch_size=4)
    gray = data.prepare_dataset(cfg)
    assert gray.images.shape == (4, 1, 28, 28) and gray.class_names == [os.path.basename(tmp_path)]
    np.testing.assert_array_equal(gray.images[:, 0, 5, 5], [0, 60, 120, 180])
    Image.fromarray(np.zeros((30, 30, 3), np.uint8)).save(tmp_path / 'colour.png')
    assert data.prepare_dataset(cfg).images.shape == (5, 3, 28, 28)
    assert data.prepare_dataset(tiny_config(str(tmp_path), 'conv28', 0, dataset='folder', batch_size=4,
                                            channels=1)).images.shape == (5, 1, 28, 28)


def test_damaged_pictures_are_skipped_with_a_warning(picture_dir, tmp_path, caplog):
    import shutil
    folder = tmp_path / 'pictures'
    shutil.copytree(picture_dir, folder)
    (folder / 'squares' / 'notes.png').write_bytes(b'not a picture at all')
    good = open(folder / 'circles' / '02.png', 'rb').read()
    (folder / 'circles' / 'cut.png').write_bytes(good[:len(good) // 2])  # a header, then half the pixels
    prepared = data.prepare_dataset(tiny_config(str(folder), 'lenet5', 0, dataset='folder', batch_size=4))
    assert len(prepared) == 24
    warned = caplog.text
    assert 'notes.png' in warned and 'cut.png' in warned and 'skipped' in warned


def test_num_classes_must_be_the_classes_the_data_has(picture_dir, cifar_dir, tmp_path):
    """One line with the count found; --num-classes 0 (unconditional) takes any data."""
    for classes in (1, 3, 5):  # 1 is refused by validation; the data check says the same count
        cfg = tiny_config(picture_dir, 'conv28', classes, dataset='folder', batch_size=4)
        with pytest.raises(UserError, match=f'^--num-classes {classes}: folder:.* has 2 class subfolders: '
                                            r'use --num-classes 2 \(or 0 for an unconditional GAN\)$'):
            data.prepare_dataset(cfg)
    assert data.prepare_dataset(tiny_config(picture_dir, 'conv28', 2, dataset='folder', batch_size=4)).class_names \
        == ['circles', 'squares']
    assert len(data.prepare_dataset(tiny_config(picture_dir, 'conv28', 0, dataset='folder', batch_size=4))) == 24
    # A folder without subfolders is one class.
    (tmp_path / 'one').mkdir()
    for name in ('circles/00.png', 'squares/03.png'):
        (tmp_path / 'one' / name.split('/')[1]).write_bytes(open(os.path.join(picture_dir, name), 'rb').read())
    with pytest.raises(UserError, match=r'has 1 class: train it unconditionally with --num-classes 0$'):
        data.prepare_dataset(tiny_config(str(tmp_path / 'one'), 'conv28', 2, dataset='folder', batch_size=2))
    # The tiny CIFAR-10 holds labels 0, 3 and 6 only: no --num-classes trains every class it names.
    cfg = tiny_config(cifar_dir, 'conv28', 10, dataset='cifar10', batch_size=4)
    with pytest.raises(UserError, match=r'^--num-classes 10: cifar10:.* has 3 classes, labelled 0, 3, 6, not 0 to 2: '
                                        'train it unconditionally with --num-classes 0$'):
        data.prepare_dataset(cfg)
    assert len(data.prepare_dataset(tiny_config(cifar_dir, 'conv28', 0, dataset='cifar10', batch_size=4))) == 20


def test_folder_errors(tmp_path):
    cfg = tiny_config(str(tmp_path), 'lenet5', 0, dataset='folder', batch_size=4)
    with pytest.raises(UserError, match='no PNG or JPEG'):
        data.prepare_dataset(cfg)
    (tmp_path / 'a.png').write_bytes(b'broken')
    with pytest.raises(UserError, match='none of its 1 files could be read'):
        data.prepare_dataset(cfg)
    with pytest.raises(UserError, match='is not a folder'):
        data.prepare_dataset(tiny_config(str(tmp_path / 'nowhere'), 'lenet5', 0, dataset='folder'))


@pytest.mark.parametrize('source', ['cifar10', 'folder'])
def test_a_set_over_the_memory_budget_is_memory_mapped_once(source, cifar_dir, picture_dir, tmp_path, monkeypatch):
    folder = cifar_dir if source == 'cifar10' else picture_dir
    cache = tmp_path / 'cache'
    cfg = tiny_config(folder, 'lenet5', 0, dataset=source, batch_size=4, cache_dir=str(cache))
    in_memory = data.prepare_dataset(cfg)
    assert not isinstance(in_memory.images, np.memmap) and not cache.exists()
    over = tiny_config(folder, 'lenet5', 0, dataset=source, batch_size=4, cache_dir=str(cache), memory_budget_mb=0.1)
    mapped = data.prepare_dataset(over)
    assert isinstance(mapped.images, np.memmap)
    np.testing.assert_array_equal(mapped.images, in_memory.images)
    np.testing.assert_array_equal(mapped.labels, in_memory.labels)
    assert len(list(cache.glob('*.images.npy'))) == 1 and not list(cache.glob('*.partial'))
    # A second run reads the cache without decoding anything.
    monkeypatch.setattr(folders, 'read_picture', lambda *a: pytest.fail('decoded again'))
    monkeypatch.setattr(data, 'resize_images', lambda *a, **k: pytest.fail('resized again'))
    again = data.prepare_dataset(over)
    np.testing.assert_array_equal(again.images, in_memory.images)


def _counting_resizes(monkeypatch):
    """A list that grows by one each time the data is resized (that is, not read from a cache)."""
    calls, resize = [], data.resize_images
    monkeypatch.setattr(data, 'resize_images', lambda *a, **k: calls.append(1) or resize(*a, **k))
    return calls


def test_a_changed_source_file_makes_a_new_cache(cifar_dir, tmp_path, monkeypatch):
    """The key hashes each source file's path, size and modification time: a new or edited file is seen."""
    cfg = tiny_config(cifar_dir, 'lenet5', 0, dataset='cifar10', batch_size=4, cache_dir=str(tmp_path / 'cache'),
                      memory_budget_mb=0.1)
    resized = _counting_resizes(monkeypatch)
    data.prepare_dataset(cfg)
    data.prepare_dataset(cfg)
    assert len(resized) == 1  # the second run read the cache
    path = os.path.join(cifar_dir, cifar10.FILES['train'][0])  # the first 4 of the 20 training pictures
    before = os.stat(path)
    images, labels = tiny_colour_pictures(4, seed=99)
    write_cifar10_batch(path, images, labels)  # the same size, other pictures
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns + 10 ** 9))  # a later time even on a coarse clock
    edited = data.prepare_dataset(cfg)
    assert len(resized) == 2
    np.testing.assert_array_equal(edited.images[:4], plain_resize(images, 64))
    np.testing.assert_array_equal(edited.labels[:4], labels)
    write_cifar10_batch(path, *tiny_colour_pictures(6, seed=99))  # two more pictures
    assert len(data.prepare_dataset(cfg)) == 22 and len(resized) == 3
    assert len(list((tmp_path / 'cache').glob('*.json'))) == 3  # one cache per version of the data


@pytest.mark.parametrize('damage', ['no-json', 'json-cut', 'json-other', 'images-cut', 'images-empty',
                                    'labels-cut', 'labels-missing', 'half-written'])
def test_a_damaged_or_half_written_cache_is_written_again(damage, cifar_dir, tmp_path, monkeypatch):
    """What a killed process or a damaged disk leaves is never read as data: the set is resized again, the same."""
    cache = tmp_path / 'cache'
    cfg = tiny_config(cifar_dir, 'lenet5', 0, dataset='cifar10', batch_size=4, cache_dir=str(cache),
                      memory_budget_mb=0.1)
    expected = data.prepare_dataset(dataclasses.replace(cfg, memory_budget_mb=100))
    data.prepare_dataset(cfg)
    (meta,), (images,), (labels,) = (list(cache.glob(f'*.{kind}')) for kind in ('json', 'images.npy', 'labels.npy'))
    cut = lambda path: path.write_bytes(path.read_bytes()[:path.stat().st_size // 2])  # noqa: E731
    if damage == 'no-json':  # killed after the arrays, before the JSON that completes a cache
        meta.unlink()
    elif damage == 'json-cut':
        cut(meta)
    elif damage == 'json-other':  # valid JSON, but not what the cache writes
        meta.write_text('{"count": "20"}')
    elif damage == 'images-cut':
        cut(images)
    elif damage == 'images-empty':
        images.write_bytes(b'')
    elif damage == 'labels-cut':
        cut(labels)
    elif damage == 'labels-missing':
        labels.unlink()
    else:  # killed while resizing: a partial images file, half filled, and nothing else
        for path in (meta, images, labels):
            path.unlink()
        writer = CacheWriter(str(cache), meta.name[:-len('.json')], expected.images.shape)
        writer.images[:10] = 7
        writer.images.flush()
        del writer
        assert len(list(cache.glob('*.partial'))) == 1
    resized = _counting_resizes(monkeypatch)
    again = data.prepare_dataset(cfg)
    assert len(resized) == 1 and isinstance(again.images, np.memmap)
    np.testing.assert_array_equal(again.images, expected.images)
    np.testing.assert_array_equal(again.labels, expected.labels)
    assert not list(cache.glob('*.partial'))
    data.prepare_dataset(cfg)
    assert len(resized) == 1  # the cache written again is whole: read, not resized


def test_an_unwritable_cache_is_one_clear_error(cifar_dir, tmp_path):
    blocker = tmp_path / 'file'
    blocker.write_text('x')
    cfg = tiny_config(cifar_dir, 'lenet5', 0, dataset='cifar10', batch_size=4, cache_dir=str(blocker / 'cache'),
                      memory_budget_mb=0.1)
    with pytest.raises(UserError, match='cannot write the dataset cache'):
        data.prepare_dataset(cfg)


def test_dataset_settings_are_validated(idx_dir):
    for changes, message in (({'dataset': 'imagenet'}, '--dataset: unknown dataset'),
                             ({'dataset': 'mnist'}, '--data-dir: --dataset mnist reads'),
                             ({'dataset': 'folder', 'data_dir': ''}, '--data-dir: --dataset folder reads a folder'),
                             ({'channels': 2}, '--channels: must be 0'),
                             ({'memory_budget_mb': -1.0}, '--memory-budget-mb')):
        with pytest.raises(UserError, match=message):
            tiny_config(idx_dir, 'lenet5', 0, **changes).validate()
    assert tiny_config(idx_dir, 'lenet5', 0).validate().dataset == 'idx'  # a folder alone: IDX files
    assert tiny_config('', 'lenet5', 0).validate().dataset == 'mnist'
