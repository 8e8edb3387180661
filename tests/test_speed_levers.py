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
