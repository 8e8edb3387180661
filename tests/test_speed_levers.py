"""The speed levers keep the maths: through D's twin, without D's weight gradients, G gets the same gradients."""
import mxnet as mx
import numpy as np
import pytest
from mxnet import autograd

from conftest import tiny_config
from core.training import GAN


def _generator_gradients(gan, batch, discriminator):
    """G's weight gradients from G's loss through ``discriminator``; D's own gradients zeroed first."""
    for param in gan.discriminator.collect_params().values():
        if param.grad_req != 'null':
            param.zero_grad()
    fakes = gan.generate_recorded(batch)
    with autograd.record():
        losses = gan.generator_losses(gan.judge(batch, fakes, reals=False, discriminator=discriminator))
    autograd.backward(losses)
    return {name: p.grad().asnumpy().copy() for name, p in gan.generator.collect_params().items()
            if p.grad_req != 'null'}


@pytest.mark.parametrize('arch,classes', [('conv28', 10), ('lenet5', 0)])
def test_the_twin_of_d_gives_g_the_same_gradients_without_d_weight_gradients(arch, classes):
    cfg = tiny_config('unused', arch, classes)
    gan = GAN(cfg, mx.cpu())
    gan.materialize()
    assert gan.discriminator_for_g is not gan.discriminator
    rng = np.random.default_rng(0)
    size, n = gan.cfg.image_size, gan.cfg.batch_size
    images = rng.integers(0, 256, (n, 1, size, size), dtype=np.uint8)
    batch = gan._batch(images, rng.integers(0, 10, n), rng.uniform(-1, 1, (n, 100)).astype(np.float32), 0)
    d_grads = lambda: [p.grad().asnumpy() for p in gan.discriminator.collect_params().values() if p.grad_req != 'null']
    through_d = _generator_gradients(gan, batch, gan.discriminator)
    assert any(np.abs(g).sum() > 0 for g in d_grads())  # D itself: its weight gradients are computed
    through_twin = _generator_gradients(gan, batch, gan.discriminator_for_g)
    assert all(np.abs(g).sum() == 0 for g in d_grads())  # the twin: none, and D's stay as they were
    for name in through_d:
        np.testing.assert_allclose(through_twin[name], through_d[name], rtol=1e-5, atol=1e-8, err_msg=name)
    assert any(np.abs(g).sum() > 0 for g in through_d.values())
    # The twin reads D's memory: after D's update it judges with the new weights.
    gan.update_discriminator(batch, gan.generate_recorded(batch))
    x = batch.reals[0]
    np.testing.assert_allclose(gan.discriminator_for_g(x, *batch.d_inputs[0]).asnumpy(),
                               gan.discriminator(x, *batch.d_inputs[0]).asnumpy(), rtol=1e-5, atol=1e-6)


# --- The fused kernels (core/training/kernels.py) -------------------------------------------------------------
from core.training import adam as fused_adam  # noqa: E402
from core.training import kernels  # noqa: E402

needs_kernels = pytest.mark.skipif(not kernels.available(), reason="no C compiler: mxnet's operators are used")


def _arrays(size, seed, count):
    rng = np.random.default_rng(seed)
    return [mx.nd.array(rng.standard_normal(size).astype(np.float32) * (0.1 if i else 1.0)) for i in range(count)]


@needs_kernels
@pytest.mark.parametrize('options', [{}, {'wd': 0.01, 'rescale_grad': 0.125}, {'clip_gradient': 0.05}])
def test_the_fused_adam_kernel_is_adam_update_bit_for_bit(options):
    size = kernels.SPLIT_SIZE + 37  # split between threads, with a ragged end
    ours = _arrays(size, 0, 4)
    ours[3] = ours[3].abs()  # the variance is never negative
    theirs = [a.copy() for a in ours]
    settings = dict(lr=1e-3, beta1=0.5, beta2=0.999, epsilon=1e-8, **options)
    for _ in range(3):
        kernels.adam(*ours, **settings)
        mx.nd.adam_update(*theirs, out=theirs[0], **settings)
    for name, a, b in zip(('weight', 'grad', 'mean', 'var'), ours, theirs):
        np.testing.assert_array_equal(a.asnumpy(), b.asnumpy(), err_msg=name)
    assert not np.array_equal(ours[0].asnumpy(), _arrays(size, 0, 1)[0].asnumpy())  # it did update


@needs_kernels
def test_the_fused_moving_average_is_the_lerp_numpy_computes():
    average, live = _arrays(kernels.SPLIT_SIZE + 5, 1, 2)
    expected = average.asnumpy()
    for decay in (0.5, 0.999):
        kernels.lerp(average, live, decay)
        expected = np.float32(decay) * expected + np.float32(1 - decay) * live.asnumpy()
    np.testing.assert_allclose(average.asnumpy(), expected, rtol=1e-6, atol=1e-7)


def _trained_weights(optimizer, steps=4):
    """A dense layer large enough for the kernel and a small one, trained with ``optimizer``."""
    mx.random.seed(3)
    net = mx.gluon.nn.HybridSequential()
    net.add(mx.gluon.nn.Dense(kernels.MIN_SIZE // 8 + 3, in_units=8), mx.gluon.nn.Dense(4))
    net.initialize(mx.init.Normal(0.1))
    trainer = mx.gluon.Trainer(net.collect_params(), optimizer)
    x = mx.nd.array(np.random.default_rng(4).standard_normal((6, 8)))
    for _ in range(steps):
        with autograd.record():
            loss = (net(x) ** 2).mean()
        loss.backward()
        trainer.step(6)
    return [p.data().asnumpy() for p in net.collect_params().values()], trainer


@needs_kernels
def test_fused_adam_trains_as_mxnet_adam_does(monkeypatch):
    sizes, adam = [], kernels.adam
    monkeypatch.setattr(kernels, 'adam', lambda weight, *args, **kw: (sizes.append(weight.size), adam(weight, *args, **kw)))
    options = dict(learning_rate=0.01, beta1=0.5, beta2=0.999, wd=1e-4)
    ours, _ = _trained_weights(fused_adam.FusedAdam(**options))
    assert sizes and min(sizes) >= kernels.MIN_SIZE  # the large weight went through the kernel, the rest not
    theirs, _ = _trained_weights(mx.optimizer.Adam(**options))
    for i, (a, b) in enumerate(zip(ours, theirs)):
        np.testing.assert_array_equal(a, b, err_msg=f"parameter {i}")


def test_fuse_upgrades_the_plain_adam_a_checkpoint_loads():
    _, trainer = _trained_weights(mx.optimizer.Adam(learning_rate=0.01), steps=1)
    fused_adam.fuse(trainer)
    assert type(trainer._optimizer) is fused_adam.FusedAdam
    assert all(type(u.optimizer) is fused_adam.FusedAdam for u in trainer._updaters)


def test_without_the_kernels_everything_goes_through_mxnet(monkeypatch):
    monkeypatch.setattr(kernels, '_library', False)
    assert not kernels.available()
    assert not kernels.eligible(mx.nd.zeros(kernels.MIN_SIZE * 4))
    options = dict(learning_rate=0.01, beta1=0.5, beta2=0.999)
    ours, _ = _trained_weights(fused_adam.FusedAdam(**options), steps=2)
    theirs, _ = _trained_weights(mx.optimizer.Adam(**options), steps=2)
    for i, (a, b) in enumerate(zip(ours, theirs)):
        np.testing.assert_array_equal(a, b, err_msg=f"parameter {i}")


def test_no_working_compiler_means_no_kernels_and_no_error(monkeypatch, tmp_path):
    monkeypatch.setenv('CC', str(tmp_path / 'no-such-compiler'))
    monkeypatch.setenv('XDG_CACHE_HOME', str(tmp_path / 'cache'))
    assert kernels._build() is None
    monkeypatch.setenv('CC', 'false')  # runs, and fails: nothing half-built is left behind
    assert kernels._build() is None
    assert not any((tmp_path / 'cache').rglob('*.so'))
