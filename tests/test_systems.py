"""The peer seeds' systems: their networks' switches, output ranges, optimizers, schedules and settings files."""
import glob
import json
import os
import re

import mxnet as mx
import numpy as np
import pytest

from conftest import ROOT, tiny_config
from core import data
from core.config import GANConfig
from core.config_file import read_config_file
from core.errors import UserError
from core.networks import get_model, output_range
from core.training import GAN


def make_gan(idx_dir, arch, **changes):
    cfg = tiny_config(idx_dir, arch, 0, mode_seeking=0, ema_decay=0, **changes).validate()
    gan = GAN(dataclasses_replace(cfg, channels=1), [mx.cpu()])
    gan.materialize()
    return gan


def dataclasses_replace(cfg, **changes):
    import dataclasses
    return dataclasses.replace(cfg, **changes)


def batch(gan, seed=0):
    rng = np.random.default_rng(seed)
    n, size = gan.cfg.batch_size, gan.cfg.image_size
    return (rng.integers(0, 256, (n, 1, size, size)).astype(np.uint8), rng.integers(0, 10, n),
            rng.uniform(-1, 1, (n, gan.cfg.noise_dim)).astype(np.float32))


def weights(net):
    return {name: p.data().asnumpy().copy() for name, p in net.collect_params().items() if p.grad_req != 'null'}


def changed(before, after):
    return any(not np.array_equal(before[k], after[k]) for k in before)


def test_mlp_depth_follows_the_channels():
    gray, colour = (get_model('mlp', 'generator', channels=c, options={'image_size': 32, 'channels': c})
                    for c in (1, 3))
    assert len(gray.features) == 2 * 4 and len(colour.features) == 2 * 5  # 5 and 6 layers with the output
    d_gray, d_colour = (get_model('mlp', 'discriminator', options={'channels': c}) for c in (1, 3))
    assert len(d_gray.features) == 1 + 2 * 2 and len(d_colour.features) == 1 + 2 * 3  # 3 and 4 layers
    for net in (colour, d_colour):
        net.initialize()
    images = colour(mx.nd.zeros((2, 100)))
    assert images.shape == (2, 3, 32, 32) and d_colour(images).shape == (2, 1)


def test_maxout_takes_the_maximum_of_its_pieces_and_model_2_adds_batchnorm():
    from core.networks.maxout import Maxout
    layer = Maxout(3, 5)
    layer.initialize()
    x = mx.nd.random.uniform(shape=(4, 7))
    linear = layer.linear(x).asnumpy().reshape(4, 3, 5)
    np.testing.assert_allclose(layer(x).asnumpy(), linear.max(axis=2), rtol=1e-6)
    plain = get_model('maxout', 'generator', options={'image_size': 28})
    normed = get_model('maxout', 'generator', options={'image_size': 28, 'generator_batchnorm': True})
    kinds = [[type(block).__name__ for block in net.features] for net in (plain, normed)]
    assert 'BatchNorm' not in kinds[0] and kinds[1].count('BatchNorm') == 2
    assert output_range('maxout') == (0.0, 1.0) and output_range('mlp') == (-1.0, 1.0)


def test_a_sigmoid_generator_trains_on_data_in_its_range(idx_dir, tmp_path):
    """maxout's images are in [0, 1]: the data is scaled there, and export, grids and sampling follow."""
    from core.training import run_training
    cfg = tiny_config(idx_dir, 'maxout', 0, max_iters=2, output_dir=str(tmp_path / 'run'))
    status, run, outputs = run_training(cfg, {})
    info = json.load(open(next(p for p in outputs['exports'] if p.endswith('generator-info.json'))))
    assert info['output_range'] == [0.0, 1.0] and 'images in [0, 1]' in info['output']
    from core.sampling import ExportedGenerator
    generator = ExportedGenerator(next(p for p in outputs['exports'] if p.endswith('generator-info.json')))
    images = generator.generate(generator.noise(8, 0))
    assert images.min() >= 0 and images.max() <= 1 and generator.value_range == (0.0, 1.0)
    pixels = np.arange(256, dtype=np.uint8)
    np.testing.assert_array_equal(data.to_uint8(data.to_model_range(pixels, (0, 1)), (0, 1)), pixels)
    assert data.to_model_range(pixels, (0, 1)).max() == 1 and data.to_model_range(pixels, (0, 1)).min() == 0


def test_dcgan_generator_switches_to_leaky_relu():
    relu = get_model('deep_convolution', 'generator')
    leaky = get_model('deep_convolution', 'generator', options={'generator_activation': 'leaky'})
    assert type(relu.features[0][2]).__name__ == 'Activation'
    assert type(leaky.features[0][2]).__name__ == 'LeakyReLU'


def test_sgd_momentum_rises_and_the_learning_rate_decays_to_its_floor(idx_dir):
    gan = make_gan(idx_dir, 'mlp', optimizer='sgd', g_learning_rate=0.1, d_learning_rate=0.1,
                   lr_decay=0.5, lr_decay_every=1, lr_min=0.02, momentum=[0.5, 0.7], momentum_iterations=4)
    assert [gan.momentum_at(i) for i in (0, 2, 4, 9)] == pytest.approx([0.5, 0.6, 0.7, 0.7])
    for i in range(4):
        gan.step(*batch(gan, i), iteration=i)
    optimizer = gan.trainer_d._optimizer
    assert type(optimizer).__name__ == 'SGD' and optimizer.momentum == pytest.approx(0.65)  # set for iteration 3
    # 0.1 halves per update to 0.05, 0.025, then stops at the floor 0.02.
    assert optimizer.lr_scheduler(10) == pytest.approx(0.02)


def test_the_weaker_network_alone_is_updated(idx_dir):
    gan = make_gan(idx_dir, 'mlp', schedule='weaker')
    trained = []
    for i in range(12):
        before = weights(gan.discriminator), weights(gan.generator)
        figures = gan.step(*batch(gan, i), iteration=i)
        d_moved, g_moved = changed(before[0], weights(gan.discriminator)), changed(before[1], weights(gan.generator))
        assert d_moved != g_moved  # exactly one network stepped
        trained.append('D' if d_moved else 'G')
        if i == 0:  # the first choice follows the losses (no strike yet)
            assert trained[0] == ('D' if figures['loss_D'] / 2 > figures['loss_G'] else 'G')
    runs = ''.join(trained)
    assert 'DDDDDD' not in runs and 'GGGGGG' not in runs  # at most 5 in a row


def test_flipped_labels_push_d_the_other_way(idx_dir):
    """With flipped targets, D's first step on its logit's weights goes the other way.

    At the start D's logits are near 0, so the gradient on the logit layer's
    weights, x_real * (target_real - 1/2) + x_fake * (target_fake - 1/2) to
    first order, changes sign with the targets (the bias's does not: it sees
    both kinds alike).
    """
    moves = {}
    for flip in (False, True):
        gan = make_gan(idx_dir, 'mlp', flip_labels=flip)
        before = weights(gan.discriminator)
        figures = gan.step(*batch(gan), iteration=0)
        after = weights(gan.discriminator)
        key = next(k for k in before if k.endswith('weight') and before[k].shape[0] == 1)  # the logit's weights
        moves[flip] = after[key] - before[key]
        assert 0 <= figures['D_x'] <= 1
    opposite = np.sign(moves[True]) == -np.sign(moves[False])
    assert np.abs(moves[False]).max() > 0 and opposite.mean() > 0.9


def test_gaussian_noise_everywhere(idx_dir, tmp_path):
    noise = data.iteration_noise(0, 3, 4000, 10, (-1, 1), 'gaussian')
    assert abs(noise.mean()) < 0.02 and abs(noise.std() - 1) < 0.02 and noise.min() < -3
    uniform = data.iteration_noise(0, 3, 4000, 10, (-1, 1))
    assert uniform.min() >= -1 and uniform.max() <= 1
    from core.training import run_training
    cfg = tiny_config(idx_dir, 'mlp', 0, max_iters=1, noise_distribution='gaussian', output_dir=str(tmp_path / 'r'))
    _, _, outputs = run_training(cfg, {})
    from core.sampling import ExportedGenerator
    generator = ExportedGenerator(next(p for p in outputs['exports'] if p.endswith('generator-info.json')))
    assert generator.info['noise_distribution'] == 'gaussian' and generator.noise(2000, 1).min() < -2


@pytest.mark.parametrize('changes,message', [
    ({'generator_batchnorm': True}, '--generator-batchnorm: only for maxout'),
    ({'generator_activation': 'leaky'}, '--generator-activation: only for deep_convolution'),
    ({'generator_activation': 'tanh', 'discriminator_type': 'deep_convolution'}, "choose 'relu' or 'leaky'"),
    ({'optimizer': 'rmsprop'}, "--optimizer: choose 'adam' or 'sgd'"),
    ({'momentum': [0.5, 1.5]}, '--momentum: START and END must be in [0, 1)'),
    ({'schedule': 'random'}, "--schedule: choose 'alternate' or 'weaker'"),
    ({'noise_distribution': 'cauchy'}, '--noise-distribution'),
    ({'flip_labels': True, 'loss': 'hinge'}, '--flip-labels'),
    ({'discriminator_type': 'mlp', 'image_size': 2}, '--image-size: must be from 4 to 256'),
])
def test_system_settings_are_validated(idx_dir, changes, message):
    with pytest.raises(UserError, match=re.escape(message)):
        tiny_config(idx_dir, 'lenet5', 0, **changes).validate()


CONFIGS = sorted(glob.glob(os.path.join(ROOT, 'configs', '*.json')))


@pytest.mark.parametrize('path', CONFIGS, ids=[os.path.basename(p) for p in CONFIGS])
def test_every_shipped_settings_file_is_valid(path):
    settings = read_config_file(path)
    cfg = GANConfig(**{**GANConfig().to_dict(), **settings}).validate()
    assert cfg.discriminator_type == settings['discriminator_type']


def test_the_seeds_settings_files_are_shipped():
    names = {os.path.basename(p) for p in CONFIGS}
    assert {'seed001-maxout.json', 'seed001-maxout-bn.json', 'seed002-dcgan.json', 'seed003-mlp.json',
            'seed003-mlp-cifar10.json', 'seed001-infogan.json', 'seed004-toy2d.json'} <= names


def test_code_loss_matches_numpy():
    from core.data.codes import draw_codes
    from core.training.terms import code_loss
    rng = np.random.default_rng(0)
    read = rng.normal(size=(6, 12)).astype(np.float32)
    codes = draw_codes(rng, 6)
    logits, means = read[:, :10], read[:, 10:]
    log_softmax = logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))
    expected = -(codes[:, :10] * log_softmax).sum(axis=1) + 0.1 * 0.5 * ((means - codes[:, 10:]) ** 2).sum(axis=1)
    np.testing.assert_allclose(code_loss(mx.nd.array(read), mx.nd.array(codes)).asnumpy(), expected, rtol=1e-5)


def test_codes_are_one_hot_categories_and_bounded_continuous_values():
    from core.data.codes import code_grid, iteration_codes
    codes = iteration_codes(3, 7, 500)
    np.testing.assert_array_equal(codes, iteration_codes(3, 7, 500))
    assert (codes[:, :10].sum(axis=1) == 1).all() and set(np.unique(codes[:, :10])) == {0, 1}
    assert len(set(codes[:, :10].argmax(axis=1))) == 10 and np.abs(codes[:, 10:]).max() <= 1
    grid = code_grid(5, vary=1)
    assert grid.shape == (50, 12) and (grid[:5, :10].argmax(axis=1) == 0).all() and grid[45, 9] == 1
    np.testing.assert_allclose(grid[:5, 11], [-1, -0.5, 0, 0.5, 1])
    assert (grid[:, 10] == 0).all()  # the code not varied stays at 0


def test_infogan_learns_to_read_its_codes_back(idx_dir):
    """After a short training, D's Q head names the categorical code of fresh samples far above chance (0.1)."""
    from core.data.codes import draw_codes
    cfg = tiny_config(idx_dir, 'infogan', 0, batch_size=32, noise_dim=62, mode_seeking=0, ema_decay=0).validate()
    gan = GAN(dataclasses_replace(cfg, channels=1), [mx.cpu()])
    gan.materialize()
    for i in range(60):
        gan.step(*batch(gan, i), iteration=i)
    rng = np.random.default_rng(99)
    codes = draw_codes(rng, 64)
    images = gan.generate(rng.uniform(-1, 1, (64, 62)).astype(np.float32), codes)
    _, read = gan.discriminator(mx.nd.array(images))
    accuracy = (read.asnumpy()[:, :10].argmax(axis=1) == codes[:, :10].argmax(axis=1)).mean()
    assert accuracy > 0.5, accuracy


def test_test_py_draws_the_infogan_code_grid(idx_dir, tmp_path):
    import matplotlib.image
    from conftest import run_script
    from core.training import run_training
    cfg = tiny_config(idx_dir, 'infogan', 0, max_iters=2, noise_dim=62, output_dir=str(tmp_path / 'run'))
    run_training(cfg, {})
    info = json.load(open(tmp_path / 'run' / 'export' / 'infogan-generator-info.json'))
    assert info['input_shapes'] == {'data0': [62], 'data1': [12]} and info['latent_codes']['categorical'] == 10
    out = tmp_path / 'codes.png'
    result = run_script('test.py', '--export-dir', str(tmp_path / 'run'), '--vary', '2', '--out', str(out))
    assert result.returncode == 0, result.stderr
    assert 'categorical code by row, continuous code 2 from -1 to 1 by column' in result.stdout
    assert matplotlib.image.imread(out).shape[:2] == ((10 * 30 + 2) * 2, (10 * 30 + 2) * 2)
    with pytest.raises(UserError, match='--num-classes 0'):
        tiny_config(idx_dir, 'infogan', 10).validate()


def test_two_dimensional_figures():
    from core import metrics
    from core.data.toy import make_points, ring_centres
    ring, modes = make_points('toy-ring', 3000, seed=1)
    other, _ = make_points('toy-ring', 3000, seed=2)
    assert abs(metrics.energy_distance(ring[:1000], other[:1000])) < 0.01
    assert metrics.energy_distance(ring[:1000], other[:1000] + [0.5, 0]) > 0.1
    full = metrics.mode_coverage(ring, ring_centres(), 0.15)
    assert full['modes_covered'] == 1 and full['near_a_mode'] > 0.95
    three = metrics.mode_coverage(ring[modes < 3], ring_centres(), 0.15)
    assert three['modes_covered'] == 3 / 8
    square, _ = make_points('toy-uniform', 5000)
    assert metrics.cell_coverage(square)['cells_covered'] == 1
    corner = metrics.cell_coverage(square / 2)
    assert corner['cells_covered'] == 0.25 and corner['inside'] == 1


def test_toy2d_trains_on_the_ring_and_plots_its_points(tmp_path):
    from conftest import run_script
    out = tmp_path / 'run'
    result = run_script('train.py', '--config', 'configs/seed004-toy2d.json', '--dataset', 'toy-ring',
                        '--batch-size', '1024', '--epochs', '1', '--evaluate', '--eval-samples', '500',
                        '--draw-iter-num', '30', '--no-if-drawing', '--context', 'cpu', '--output-dir', str(out))
    assert result.returncode == 0, result.stderr
    assert 'epoch 1 quality: 500 points: energy distance' in result.stdout + result.stderr
    quality = json.loads(open(out / 'log.jsonl').readline())['quality']
    assert 0 <= quality['modes_covered'] <= 1 and quality['energy_distance'] >= 0
    info = json.load(open(out / 'export' / 'toy2d-generator-info.json'))
    assert info['points'] and info['output'] == '2-D points, shape (N, 2)'
    assert info['noise_distribution'] == 'gaussian' and info['dataset'] == 'toy-ring'
    import matplotlib.image
    assert matplotlib.image.imread(out / 'samples' / 'iter-00000030.png').shape[:2] == (600, 600)
    # The export in plain MXNet: points of the live generator (the sampler draws them the same).
    import mxnet as mx
    from core.sampling import ExportedGenerator
    generator = ExportedGenerator(str(out / 'export' / 'toy2d-generator-info.json'))
    net = mx.gluon.SymbolBlock.imports(str(out / 'export' / info['symbol_file']), info['input_names'],
                                       str(out / 'export' / info['params_file']))
    noise = generator.noise(64, 0)
    np.testing.assert_allclose(generator.generate(noise), net(mx.nd.array(noise)).asnumpy(), rtol=1e-5, atol=1e-6)
    sampled = run_script('test.py', '--export-dir', str(out), '--evaluate', '--eval-samples', '500', '--onnx',
                         '--out', str(tmp_path / 'points.png'))
    assert sampled.returncode == 0, sampled.stderr
    assert '500 points: energy distance' in sampled.stdout and 'modes covered' in sampled.stdout


def test_toy_data_and_toy2d_go_together(idx_dir):
    with pytest.raises(UserError, match='toy2d'):
        tiny_config('', 'toy2d', 0).validate()  # on MNIST
    with pytest.raises(UserError, match='toy2d'):
        tiny_config('', 'lenet5', 0, dataset='toy-ring', data_dir='').validate()
    cfg = tiny_config('', 'toy2d', 0, dataset='toy-uniform', data_dir='').validate()
    points = data.prepare_dataset(cfg)
    assert points.images.shape == (100000, 2) and points.images.min() >= 0 and points.images.max() < 1


def test_dcgan_variant_trains_and_its_export_reloads_with_the_live_output(idx_dir, tmp_path):
    from core.training import Trainer, prepare_run
    cfg = tiny_config(idx_dir, 'deep_convolution', 0, max_iters=1, generator_activation='leaky',
                      output_dir=str(tmp_path / 'run'))
    cfg, run, _ = prepare_run(cfg, {}, resume=False)
    trainer = Trainer(cfg, run)
    trainer.setup()
    assert trainer.train() == 'finished'
    exports = trainer.finish()['exports']
    info = json.load(open(next(p for p in exports if p.endswith('generator-info.json'))))
    folder = os.path.dirname(exports[0])
    net = mx.gluon.SymbolBlock.imports(os.path.join(folder, info['symbol_file']), info['input_names'],
                                       os.path.join(folder, info['params_file']))
    noise = mx.nd.array(np.random.default_rng(2).uniform(-1, 1, (4, 100)))
    np.testing.assert_allclose(net(noise).asnumpy(), trainer.gan.sampler(noise).asnumpy(), rtol=1e-4, atol=1e-5)
    assert json.load(open(run.config))['generator_activation'] == 'leaky'


def test_infogan_and_toy2d_shapes():
    from core.data.codes import draw_codes
    generator, discriminator = (get_model('infogan', role) for role in ('generator', 'discriminator'))
    points_g, points_d = (get_model('toy2d', role) for role in ('generator', 'discriminator'))
    for net in (generator, discriminator, points_g, points_d):
        net.initialize()
    images = generator(mx.nd.zeros((4, 62)), mx.nd.array(draw_codes(np.random.default_rng(0), 4)))
    assert images.shape == (4, 1, 28, 28)
    logit, read = discriminator(images)
    assert logit.shape == (4, 1) and read.shape == (4, 12)
    points = points_g(mx.nd.random.normal(shape=(4, 10)))
    assert points.shape == (4, 2) and points_d(points).shape == (4, 1)
    with pytest.raises(ValueError, match='codes'):
        get_model('infogan', 'generator', num_classes=10)
