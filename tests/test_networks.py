"""Every registered network: shapes, hybridized == imperative, the deconvolution workaround, conditioning."""
import json
import os
import re

import mxnet as mx
import numpy as np
import pytest
from mxnet import autograd, init
from mxnet.gluon import nn

from conftest import run_script, tiny_config
from core.errors import UserError
from core.networks import (WEIGHT_INIT, batch_multiple, draws_points, get_model, get_model_list, supported_image_sizes,
                           takes_codes)
from core.networks.layers import ClassPlaneConv2D, MinibatchStddev, OutputConv2DTranspose

# The picture networks that take a class; infogan (codes in place of classes) and toy2d (2-D points) are
# checked in tests/test_systems.py.
PICTURE_NETWORKS = [name for name in get_model_list() if not takes_codes(name) and not draws_points(name)]
CASES = [(name, classes) for name in PICTURE_NETWORKS for classes in (0, 10)]


def make_pair(name, num_classes, seed=3, **options):
    mx.random.seed(seed)
    nets = [get_model(name, role, num_classes=num_classes, **options) for role in ('generator', 'discriminator')]
    for net in nets:
        net.initialize(WEIGHT_INIT)
    return nets


def inputs(name, num_classes, batch=None):
    # deep_convolution (64x64, up to 1024 filters) is the slow one: a batch of 2 keeps its cases cheap.
    batch = max(batch or (2 if name == 'deep_convolution' else 4), batch_multiple(name))
    size = (supported_image_sizes(name) or (28,))[0]  # None: any size
    rng = np.random.default_rng(0)
    noise = mx.nd.array(rng.uniform(-1, 1, (batch, 100)))
    images = mx.nd.array(rng.uniform(-1, 1, (batch, 1, size, size)))
    cond = (mx.nd.array(np.arange(batch) % 10),) if num_classes else ()
    return noise, images, cond, size


def test_registry_lists_the_seed_architectures():
    assert {'lenet5', 'deep_convolution', 'conv28'} <= set(get_model_list())
    with pytest.raises(ValueError, match='lenet5'):
        get_model('resnet', 'generator')


@pytest.mark.parametrize('name,num_classes', CASES)
def test_shapes(name, num_classes):
    generator, discriminator = make_pair(name, num_classes)
    noise, images, cond, size = inputs(name, num_classes)
    batch = len(noise)
    fake = generator(noise, *cond)
    assert fake.shape == (batch, 1, size, size)
    assert np.abs(fake.asnumpy()).max() <= 1.0  # tanh range
    assert discriminator(images, *cond).shape == (batch, 1)


OPTIONS = {'seed': {}, 'spectral-norm': dict(spectral_norm=True), 'projection': dict(conditioning='projection'),
           'acgan': dict(conditioning='acgan', spectral_norm=True)}
CONDITIONING_OPTIONS = ('projection', 'acgan')  # without classes get_model ignores them: no case of their own
OPTION_CASES = [(name, classes, option) for name, classes in CASES for option in OPTIONS
                if classes or option not in CONDITIONING_OPTIONS]


def _flat(out):
    return [o.asnumpy() for o in out] if isinstance(out, (list, tuple)) else [out.asnumpy()]


def _has_dropout(block):
    return isinstance(block, nn.Dropout) or any(_has_dropout(child) for child in block._children.values())


@pytest.mark.parametrize('name,num_classes,options', OPTION_CASES)
def test_hybridized_equals_imperative(name, num_classes, options):
    """Inference and training-mode outputs agree before and after hybridize(static_alloc, static_shape)."""
    generator, discriminator = make_pair(name, num_classes, **OPTIONS[options])
    noise, images, cond, _ = inputs(name, num_classes)
    d_cond = () if options == 'acgan' else cond

    # Dropout (maxout's discriminator) draws other masks in a static graph: its training mode is random.
    random_d = _has_dropout(discriminator)

    def outputs():
        with autograd.train_mode():
            train = [generator(noise, *cond).asnumpy()] + ([] if random_d else _flat(discriminator(images, *d_cond)))
        return [generator(noise, *cond).asnumpy()] + _flat(discriminator(images, *d_cond)) + train

    imperative = outputs()
    for net in (generator, discriminator):
        net.hybridize(static_alloc=True, static_shape=True)
    hybridized = outputs()
    for a, b in zip(imperative, hybridized):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize('name,num_classes', CASES)
def test_generator_trains_through_discriminator_hybridized(name, num_classes):
    """The generator's gradient flows through D (this is where mxnet 1.9.1's deconvolution bug bites)."""
    generator, discriminator = make_pair(name, num_classes)
    noise, _, cond, _ = inputs(name, num_classes)
    for net in (generator, discriminator):
        net.hybridize(static_alloc=True, static_shape=True)
    generator(noise, *cond).wait_to_read()  # an inference call first, as the training loop's samples do
    with autograd.record():
        loss = discriminator(generator(noise, *cond), *cond).sum()
    loss.backward()
    grads = [p.grad().abs().sum().asscalar() for p in generator.collect_params().values() if p.grad_req != 'null']
    assert all(np.isfinite(grads)) and sum(grads) > 0


def test_one_channel_output_layer_matches_its_first_channel():
    """The workaround computes a spare channel; the result is the first channel of that layer."""
    layer = OutputConv2DTranspose(1, 5, strides=2, padding=2, output_padding=1)
    layer.initialize(WEIGHT_INIT)
    x = mx.nd.random.uniform(shape=(2, 8, 8, 8))
    x.attach_grad()
    with autograd.record():
        y = layer(x)
    y.backward()
    assert y.shape == (2, 1, 16, 16)
    full = layer.deconv(x)
    np.testing.assert_allclose(y.asnumpy(), full[:, :1].asnumpy(), rtol=1e-6)
    assert np.abs(x.grad.asnumpy()).sum() > 0
    # The spare channel's weights get no gradient: the maths is that of a 1-channel layer.
    assert np.abs(layer.deconv.weight.grad()[:, 1].asnumpy()).sum() == 0


@pytest.mark.parametrize('name', PICTURE_NETWORKS)
def test_class_input_steers_the_generator(name):
    generator, _ = make_pair(name, 10)
    noise = mx.nd.array(np.random.default_rng(1).uniform(-1, 1, (1, 100)).repeat(2, axis=0))
    images = generator(noise, mx.nd.array([3, 7])).asnumpy()
    assert np.abs(images[0] - images[1]).mean() > 1e-4
    # ... and the same class with the same noise gives the same image.
    again = generator(noise, mx.nd.array([3, 3])).asnumpy()
    np.testing.assert_allclose(again[0], again[1])


def test_lenet5s_stddev_group_is_its_batch_multiple():
    assert batch_multiple('lenet5') == 32 and batch_multiple('lenet5', 8) == 8 and batch_multiple('conv28', 8) == 1
    discriminator = get_model('lenet5', 'discriminator', options={'stddev_group': 4})
    discriminator.initialize(WEIGHT_INIT)
    discriminator.hybridize()
    images = mx.nd.random.uniform(-1, 1, (8, 1, 64, 64))
    assert discriminator(images).shape == (8, 1)
    with pytest.raises(mx.MXNetError):  # 6 samples are not groups of 4
        discriminator(images[:6]).wait_to_read()


def test_minibatch_stddev_matches_numpy_and_ignores_how_the_batch_is_split():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(8, 3, 2, 2)).astype(np.float32)
    layer = MinibatchStddev(group_size=4)
    layer.hybridize()
    out = layer(mx.nd.array(x)).asnumpy()
    assert out.shape == (8, 4, 2, 2)
    np.testing.assert_array_equal(out[:, :3], x)
    for group in (slice(0, 4), slice(4, 8)):
        expected = np.sqrt(x[group].var(axis=0) + 1e-8).mean()
        np.testing.assert_allclose(out[group, 3], expected, rtol=1e-5)
    # Each half of the batch (one device's share) gives the same as the whole batch.
    halves = np.concatenate([layer(mx.nd.array(x[:4])).asnumpy(), layer(mx.nd.array(x[4:])).asnumpy()])
    np.testing.assert_allclose(halves, out, rtol=1e-6)
    # A batch of identical samples (a collapsed generator) gets a zero feature.
    same = layer(mx.nd.array(np.repeat(x[:1], 4, axis=0))).asnumpy()
    np.testing.assert_allclose(same[:, 3], 1e-4, rtol=1e-3)


def test_class_plane_convolution_equals_one_convolution_over_the_joined_input():
    """The seed's CGAN input (image + ten one-hot planes), convolved the cheap way: same outputs and gradients."""
    mx.random.seed(0)
    cheap, plain = ClassPlaneConv2D(8, 5, 2, 2, class_planes=10, prefix='c_'), nn.Conv2D(8, 5, 2, 2, prefix='c_')
    image = mx.nd.random.uniform(-1, 1, (6, 1, 28, 28))
    planes = mx.nd.broadcast_like(mx.nd.one_hot(mx.nd.array([0, 3, 9, 3, 1, 2]), 10).reshape((0, 0, 1, 1)), image,
                                  lhs_axes=(2, 3), rhs_axes=(2, 3))
    joined = mx.nd.concat(image, planes, dim=1)
    for layer in (cheap, plain):
        layer.initialize(init.Normal(0.1))
        layer(joined)
    plain.weight.set_data(cheap.weight.data())
    plain.bias.set_data(cheap.bias.data())
    cheap.hybridize(static_alloc=True, static_shape=True)
    results = []
    for layer in (cheap, plain):
        joined.attach_grad()
        with autograd.record():
            out = layer(joined)
            loss = (out * out).sum()
        loss.backward()
        results.append((out.asnumpy(), layer.weight.grad().asnumpy(), joined.grad[:, :1].asnumpy()))
    for a, b in zip(*results):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)
    assert cheap.weight.shape == plain.weight.shape == (8, 11, 5, 5)  # the same parameters as the plain layer


# --- deep_convolution's width (--width) and its 32x32 form ---------------------------------------------

def _built(role, channels=1, size=64, **options):
    """An initialised deep_convolution network, run once so that every shape is known; and its input."""
    net = get_model('deep_convolution', role, channels=channels, prefix=f'{role[0]}_',
                    options=dict(options, image_size=size))
    net.initialize(WEIGHT_INIT)
    x = mx.nd.zeros((2, 100)) if role == 'generator' else mx.nd.zeros((2, channels, size, size))
    net(x)
    return net, x


def _layout(net):
    return [(name, p.shape) for name, p in net.collect_params().items()]


def _param_count(net):
    return sum(int(np.prod(p.shape)) for p in net.collect_params().values())


def _seed_layout():
    """The seed's deep_convolution parameters, names and shapes, written out from its layer list."""
    def batchnorm(prefix, i, c):
        return [(f'{prefix}batchnorm{i}_{k}', (c,)) for k in ('gamma', 'beta', 'running_mean', 'running_var')]
    generator = []
    for i, (cin, cout) in enumerate(((100, 1024), (1024, 512), (512, 256), (256, 128))):
        generator += [(f'g_conv{i}_weight', (cin, cout, 4, 4))] + batchnorm('g_', i, cout)
    # Two output channels: the one-channel deconvolution workaround (OutputConv2DTranspose).
    generator += [('g_outputconv2dtranspose0_conv0_weight', (128, 2, 4, 4)),
                  ('g_outputconv2dtranspose0_conv0_bias', (2,))]
    discriminator = [('d_conv0_weight', (128, 1, 4, 4)), ('d_conv0_bias', (128,))]
    for i, (cin, cout) in enumerate(((128, 256), (256, 512), (512, 1024))):
        discriminator += [(f'd_conv{i + 1}_weight', (cout, cin, 4, 4))] + batchnorm('d_', i, cout)
    discriminator += [('d_conv4_weight', (1, 1024, 4, 4)), ('d_conv4_bias', (1,))]
    return {'generator': generator, 'discriminator': discriminator}


@pytest.mark.parametrize('role', ['generator', 'discriminator'])
def test_width_1_is_the_seeds_network(role):
    """The default and an explicit --width 1 both build the seed's layers: same names, same shapes."""
    assert _layout(_built(role)[0]) == _seed_layout()[role]
    assert _layout(_built(role, width=1.0)[0]) == _seed_layout()[role]


def test_stage_widths_are_rounded_to_multiples_of_8():
    from core.networks.deep_convolution import stage_widths
    assert stage_widths() == (128, 256, 512, 1024) and stage_widths(32) == (128, 256, 512)
    assert stage_widths(64, 0.25) == (32, 64, 128, 256) and stage_widths(32, 0.5) == (64, 128, 256)
    assert stage_widths(64, 0.1) == (16, 24, 48, 104)  # 12.8, 25.6, 51.2, 102.4 to the nearest multiple of 8
    assert stage_widths(64, 0.01) == (8, 8, 8, 8)  # never below 8 filters
    with pytest.raises(ValueError, match='64 or 32'):
        stage_widths(28)


@pytest.mark.parametrize('size', [32, 64])
@pytest.mark.parametrize('channels', [1, 3])
def test_quarter_width_pair_draws_and_judges_gray_and_colour_at_32_and_64(size, channels):
    generator, noise = _built('generator', channels, size, width=0.25)
    discriminator, _ = _built('discriminator', channels, size, width=0.25)
    images = generator(noise)
    assert images.shape == (2, channels, size, size) and np.abs(images.asnumpy()).max() <= 1.0
    assert discriminator(images).shape == (2, 1)
    # The first stage has a quarter of the seed's 128 filters; at 32x32 the last stage (1024 filters) is gone.
    assert discriminator.features[0][0].weight.shape == (32, channels, 4, 4)
    assert len(discriminator.features) == len(generator.features) == {64: 4, 32: 3}[size]


def test_quarter_width_pair_trains_conditionally_at_32():
    """Conditioning wraps the narrow pair as it does the seed's: G's gradient flows through D, hybridized."""
    generator, discriminator = make_pair('deep_convolution', 10, options={'width': 0.25, 'image_size': 32})
    noise, _, cond, _ = inputs('deep_convolution', 10)
    with autograd.record():
        loss = discriminator(generator(noise, *cond), *cond).sum()
    loss.backward()
    assert generator(noise, *cond).shape == (len(noise), 1, 32, 32)
    assert sum(p.grad().abs().sum().asscalar() for p in generator.collect_params().values() if p.grad_req != 'null') > 0


def test_parameter_count_shrinks_with_the_square_of_the_width():
    for role in ('generator', 'discriminator'):
        seed, quarter = (_param_count(_built(role, width=w)[0]) for w in (1.0, 0.25))
        if role == 'discriminator':
            assert quarter / seed == pytest.approx(0.25 ** 2, rel=0.03)
        else:  # the first up-convolution's 100 noise inputs do not shrink: a little above F^2
            assert 0.25 ** 2 < quarter / seed < 1.5 * 0.25 ** 2


@pytest.mark.parametrize('changes,message', [
    (dict(width=0.03), '--width: must be from 0.0625'),
    (dict(width=25.0), '--width: must be from 0.0625 (8 filters in the first layer) to 2.0, got 25.0'),
    (dict(width=float('nan')), '--width: must be from'),
    (dict(width=0.5, discriminator_type='lenet5', image_size=64), '--width: only for deep_convolution, not lenet5'),
    (dict(image_size=48), '--image-size: deep_convolution works with images of size 64 or 32, not 48'),
])
def test_bad_widths_and_sizes_are_refused(idx_dir, changes, message):
    with pytest.raises(UserError, match=re.escape(message)):
        tiny_config(idx_dir, 'deep_convolution', 0, **changes).validate()


def test_train_py_refuses_a_bad_width_in_one_line(idx_dir):
    result = run_script('train.py', '--discriminator-type', 'deep_convolution', '--width', '0',
                        '--data-dir', idx_dir, '--context', 'cpu', timeout=120)
    assert result.returncode == 2, result.stderr
    assert result.stderr.strip().splitlines() == [
        'error: --width: must be from 0.0625 (8 filters in the first layer) to 2.0, got 0.0']


def test_quarter_width_colour_pair_trains_exports_and_is_rebuilt_from_its_sidecar(picture_dir, tmp_path):
    """A tiny run at --width 0.25 on colour pictures at 32x32: the export loads in plain MXNet and draws what
    the trained sampler draws, and its sidecar's network_options build the same network again."""
    from core.training import run_training
    cfg = tiny_config(picture_dir, 'deep_convolution', 0, dataset='folder', image_size=32, width=0.25, max_iters=2,
                      output_dir=str(tmp_path / 'run'))
    _, run, outputs = run_training(cfg, {})
    assert json.load(open(run.config))['width'] == 0.25
    sidecar = next(p for p in outputs['exports'] if p.endswith('generator-info.json'))
    info = json.load(open(sidecar))
    assert info['network_options'] == {'generator_activation': 'relu', 'image_size': 32, 'width': 0.25}
    assert info['image_channels'] == 3
    folder = os.path.dirname(sidecar)
    exported = mx.gluon.SymbolBlock.imports(os.path.join(folder, info['symbol_file']), info['input_names'],
                                            os.path.join(folder, info['params_file']))
    rebuilt = get_model(info['architecture'], info['role'], channels=info['image_channels'], prefix='g_',
                        options=info['network_options'])
    # The export's parameters carry the network's prefix (g_) in their names, as the rebuilt network's do.
    rebuilt.collect_params().load(os.path.join(folder, info['params_file']), restore_prefix='')
    noise = mx.nd.array(np.random.default_rng(2).uniform(-1, 1, (4, info['noise_dim'])))
    images = exported(noise).asnumpy()
    assert images.shape == (4, 3, 32, 32)
    np.testing.assert_allclose(rebuilt(noise).asnumpy(), images, rtol=1e-4, atol=1e-5)
