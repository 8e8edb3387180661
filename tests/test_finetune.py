"""Fine-tuning on tiny data: --init-from (run, checkpoint, export), --freeze-d, --max-minutes, --limit-images."""
import json
import os
import re
import shutil

import mxnet as mx
import numpy as np
import pytest

from conftest import ARCHITECTURES, ROOT, checkpoint_weights, run_script, tiny_config
from core import data
from core.config import GANConfig
from core.errors import UserError
from core.export.mxnet import export_pair
from core.training import GAN, Progress, Trainer, prepare_run, run_training
from core.training.finetune import discriminator_layers, initialize_from, layer_names


class Messages(Progress):
    """Keeps the loop's messages."""

    def __init__(self):
        self.lines = []

    def message(self, text):
        self.lines.append(text)


@pytest.fixture(scope='module')
def source(idx_dir, tmp_path_factory):
    """A tiny mlp run of 2 iterations with a moving average: its folder holds checkpoints/ and export/."""
    cfg = tiny_config(idx_dir, 'mlp', 0, max_iters=2, output_dir=str(tmp_path_factory.mktemp('source') / 'run'))
    status, run, _ = run_training(cfg, {})
    assert status == 'finished'
    return run


def _set_up(cfg):
    """A Trainer for a new run of ``cfg``, set up (weights loaded), with its messages."""
    messages = Messages()
    cfg, run, checkpoint = prepare_run(cfg, {}, resume=False)
    trainer = Trainer(cfg, run, messages)
    trainer.setup(checkpoint)
    return trainer, messages.lines


def _export_arrays(folder, name, role):
    """{parameter name: numpy} of an export's .params file."""
    arrays = mx.nd.load(os.path.join(folder, f'{name}-{role}-0000.params'))
    return {key.split(':', 1)[1]: value.asnumpy() for key, value in arrays.items()}


def _weights(net):
    return {name: param.data().asnumpy().copy() for name, param in net.collect_params().items()}


@pytest.mark.parametrize('where', ['run folder', 'checkpoint folder', 'checkpoint file'])
def test_init_from_a_run_or_a_checkpoint_loads_all_three_networks_and_starts_afresh(source, idx_dir, tmp_path, where):
    checkpoint = source.latest_checkpoint()
    path = {'run folder': source.folder, 'checkpoint folder': checkpoint,
            'checkpoint file': os.path.join(checkpoint, 'discriminator.params')}[where]
    trainer, messages = _set_up(tiny_config(idx_dir, 'mlp', 0, seed=7, max_iters=2, init_from=path,
                                            output_dir=str(tmp_path / 'new')))
    os.makedirs(tmp_path / 'loaded')
    trainer.gan.save(str(tmp_path / 'loaded'))
    loaded, saved = checkpoint_weights(str(tmp_path / 'loaded')), checkpoint_weights(checkpoint)
    assert loaded.keys() == saved.keys() and any(k.startswith('generator_average') for k in saved)
    for key in saved:  # G, D and G's moving average, bit for bit (seed 7 would have drawn other weights)
        np.testing.assert_array_equal(loaded[key], saved[key], err_msg=key)
    assert trainer.state.iteration == 0 and trainer.state.epoch == 0 and not trainer.state.history
    assert all(not updater.states for t in (trainer.gan.trainer_g, trainer.gan.trainer_d) for updater in t._updaters)
    assert json.load(open(trainer.run.config))['init_from'] == path
    assert any(line.startswith(f'initialized from checkpoint {checkpoint}') for line in messages)


def test_init_from_an_export_loads_the_exported_generator_and_discriminator(source, idx_dir, tmp_path):
    export = os.path.join(source.folder, 'export')
    trainer, messages = _set_up(tiny_config(idx_dir, 'mlp', 0, seed=7, max_iters=2, init_from=export,
                                            output_dir=str(tmp_path / 'new')))
    gan = trainer.gan
    for role, nets in (('generator', (gan.generator, gan.sampler)), ('discriminator', (gan.discriminator,))):
        exported = _export_arrays(export, 'mlp', role)
        for net in nets:  # the live generator and its average both start from the exported (average) generator
            weights = _weights(net)
            assert weights.keys() == exported.keys()
            for name in exported:
                np.testing.assert_array_equal(weights[name], exported[name], err_msg=name)
    assert any('export' in line and 'the generator, the discriminator;' in line for line in messages)


@pytest.mark.parametrize('arch,classes', ARCHITECTURES, ids=lambda p: str(p))
def test_every_architecture_starts_from_its_own_export(idx_dir, tmp_path, arch, classes):
    """The names and shapes of each network's export fit the networks that a new run builds."""
    cfg = tiny_config(idx_dir, arch, classes, channels=1).resolved()
    first = GAN(cfg, [mx.cpu()])
    first.materialize()
    export_pair(first.sampler, first.discriminator, str(tmp_path), cfg, epoch=0, iteration=0, onnx=False)
    second = GAN(tiny_config(idx_dir, arch, classes, channels=1, seed=5, init_from=str(tmp_path)).resolved(),
                 [mx.cpu()])
    second.materialize()
    initialize_from(second, second.cfg)
    for ours, theirs in ((second.generator, first.sampler), (second.discriminator, first.discriminator)):
        a, b = _weights(ours), _weights(theirs)
        assert a.keys() == b.keys()
        for name in a:
            np.testing.assert_array_equal(a[name], b[name], err_msg=name)


def test_a_resumed_fine_tuning_run_continues_from_its_own_checkpoint(source, idx_dir, tmp_path):
    """Stopped at 2 and resumed to 4, it matches a run of 4 (it would not, were the source loaded again).

    The resumed run never reads its source: a copy of it, removed before the resume, serves.
    """
    straight = run_training(tiny_config(idx_dir, 'mlp', 0, max_iters=4, init_from=source.folder,
                                        output_dir=str(tmp_path / 'a')), {})[1]
    copy = shutil.copytree(source.folder, tmp_path / 'copy')
    cfg = tiny_config(idx_dir, 'mlp', 0, max_iters=2, init_from=str(copy), output_dir=str(tmp_path / 'b'))
    run_training(cfg, {})
    shutil.rmtree(copy)
    status, resumed, _ = run_training(cfg, {'max_iters': 4}, resume=True)
    assert status == 'finished' and resumed.latest_checkpoint().endswith('iter-00000004')
    a, b = checkpoint_weights(straight.latest_checkpoint()), checkpoint_weights(resumed.latest_checkpoint())
    for key in a:
        np.testing.assert_allclose(a[key], b[key], rtol=1e-5, atol=1e-7, err_msg=key)
    with pytest.raises(UserError, match='--init-from: cannot change when resuming'):
        run_training(cfg, {'init_from': straight.folder}, resume=True)


def test_weights_of_another_shape_are_refused_in_one_line_by_the_script(source, idx_dir, tmp_path):
    out = tmp_path / 'new'
    result = run_script('train.py', '--dataset', 'idx', '--data-dir', idx_dir, '--discriminator-type', 'mlp',
                        '--image-size', '28', '--batch-size', '8', '--context', 'cpu', '--no-if-drawing',
                        '--noise-dim', '50', '--max-iters', '1', '--init-from', source.folder, '--output-dir', str(out))
    assert result.returncode == 2 and 'Traceback' not in result.stderr
    lines = result.stderr.strip().splitlines()  # the data's line, then the error
    error = lines[-1]
    assert [line for line in lines if 'error' in line] == [error]
    assert error.startswith(f"error: --init-from {source.folder}: the generator's ")
    assert "has shape (256, 100) in the source and (256, 50) in this run" in error
    assert not out.exists() or not os.listdir(out)  # a refused run leaves no run folder behind


@pytest.mark.parametrize('changes,message', [
    (dict(channels=3), r'trained on 1-channel \(gray\) images, this run has 3: add --channels 1'),
    (dict(discriminator_type='conv28'), 'the source is a mlp pair, this run trains conv28: add --discriminator-type mlp'),
    (dict(num_classes=10), 'add --num-classes 0'),
])
def test_other_architectures_classes_or_channels_are_refused_with_the_fix(source, idx_dir, tmp_path, changes, message):
    changes = dict(changes)
    cfg = tiny_config(idx_dir, 'mlp', changes.pop('num_classes', 0), max_iters=1, init_from=source.folder,
                      output_dir=str(tmp_path / 'new'), **changes)
    with pytest.raises(UserError, match=message):
        run_training(cfg, {})


def test_freeze_d_keeps_the_first_layers_bit_identical_and_trains_the_rest(idx_dir, tmp_path):
    """conv28 with spectral norm: layers d_conv0 and d_conv1+d_batchnorm0 frozen, d_dense0 trained."""
    changes = dict(spectral_norm=True, max_iters=1)
    run_training(tiny_config(idx_dir, 'conv28', 0, output_dir=str(tmp_path / 'source'), **changes), {})
    trainer, _ = _set_up(tiny_config(idx_dir, 'conv28', 0, init_from=str(tmp_path / 'source'), freeze_d=2,
                                     output_dir=str(tmp_path / 'tuned'), **{**changes, 'max_iters': 3}))
    net = trainer.gan.discriminator
    before = _weights(net)
    assert trainer.train() == 'finished' and trainer.state.iteration == 3
    after = _weights(net)
    layers = discriminator_layers(net)
    frozen = [p.name for layer in layers[:2] for block in layer for p in block.params.values()
              if 'running' not in p.name]  # BatchNorm's running statistics follow the batches
    trained = [p.name for block in layers[2] for p in block.params.values() if p.grad_req != 'null']
    assert {'d_conv0_weight', 'd_conv0_u', 'd_conv1_weight', 'd_batchnorm0_gamma'} <= set(frozen)
    assert trained == ['d_dense0_weight', 'd_dense0_bias']
    for name in frozen:
        np.testing.assert_array_equal(after[name], before[name], err_msg=name)
    for name in trained:
        assert not np.array_equal(after[name], before[name]), name


def test_the_documented_layers_are_each_discriminators():
    """docs/workflow.md's table of D's layers, read back and compared with what --freeze-d counts."""
    from core.networks import get_model_list, model_for
    with open(os.path.join(ROOT, 'docs', 'workflow.md')) as f:
        rows = re.findall(r"^  \| `(\w+)` \| (.*) \|$", f.read(), re.M)
    documented = {arch: re.sub(r' \([^)]*\)', '', layers).split(', ') for arch, layers in rows}
    assert set(documented) == set(get_model_list())
    for arch, layers in documented.items():
        cfg = GANConfig(discriminator_type=arch, dataset='toy-ring' if arch == 'toy2d' else '').resolved()
        assert layer_names(discriminator_layers(model_for(cfg, 'discriminator'))) == layers, arch


@pytest.mark.parametrize('changes,message', [
    (dict(freeze_d=1), '--freeze-d: keeps layers of a trained discriminator fixed: give --init-from too'),
    (dict(freeze_d=3, init_from='.'), r"--freeze-d: mlp's discriminator has 3 layers \(d_dense0, d_dense1, "
                                      r"d_dense2\): freeze at most 2, got 3"),
    (dict(freeze_d=-1), '--freeze-d: must be 0 or more, got -1'),
    (dict(max_minutes=-0.5), r'--max-minutes: must be 0 \(off\) or more, got -0.5'),
    (dict(max_minutes=float('nan')), '--max-minutes: must be 0'),
    (dict(limit_images=-1), '--limit-images: must be 0 or more, got -1'),
])
def test_bad_fine_tuning_settings_are_one_line_errors(idx_dir, changes, message):
    with pytest.raises(UserError, match=message) as caught:
        tiny_config(idx_dir, 'mlp', 0, **changes).validate()
    assert '\n' not in str(caught.value)


def test_a_missing_source_is_refused_before_the_data_loads(idx_dir, tmp_path):
    cfg = tiny_config(idx_dir, 'mlp', 0, init_from=str(tmp_path / 'no-such-run'), output_dir=str(tmp_path / 'new'))
    with pytest.raises(UserError, match=r'^--init-from: \S*no-such-run does not exist; give a run folder'):
        prepare_run(cfg, {}, resume=False)
    assert not (tmp_path / 'new').exists()


def test_max_minutes_stops_with_a_checkpoint_and_an_export_and_a_resume_gets_a_new_budget(idx_dir, tmp_path):
    cfg = tiny_config(idx_dir, 'mlp', 0, epochs=10000, max_minutes=0.02, output_dir=str(tmp_path / 'run'))
    messages = Messages()
    status, run, outputs = run_training(cfg, {}, progress=messages)
    stopped_at = int(outputs['checkpoint'][-8:])
    assert status == 'finished' and 0 < stopped_at < 10000 * 12
    assert outputs['exports'] and all(os.path.isfile(p) for p in outputs['exports'])
    assert any(line.startswith('--max-minutes 0.02: the time is up after iteration') for line in messages.lines)
    status, run, outputs = run_training(cfg, {}, resume=True)
    assert status == 'finished' and int(outputs['checkpoint'][-8:]) > stopped_at


def test_limit_images_takes_the_first_pictures_with_their_labels(idx_dir, picture_dir, tmp_path, caplog):
    full = data.prepare_dataset(tiny_config(idx_dir, 'mlp', 0))
    for changes in (dict(), dict(memory_budget_mb=0, cache_dir=str(tmp_path))):  # in memory, and from a cache file
        some = data.prepare_dataset(tiny_config(idx_dir, 'mlp', 0, limit_images=10, **changes))
        assert len(some) == 10 and some.images.shape[0] == 10
        np.testing.assert_array_equal(some.images, full.images[:10])
        np.testing.assert_array_equal(some.labels, full.labels[:10])
    assert len(data.prepare_dataset(tiny_config(idx_dir, 'mlp', 0, limit_images=500))) == len(full) == 96
    assert '--limit-images 500: ' in caplog.text and 'has only 96 images; using all of them' in caplog.text
    pictures = tiny_config(picture_dir, 'mlp', 0, dataset='folder', batch_size=4)
    all_pictures = data.prepare_dataset(pictures)
    some = data.prepare_dataset(tiny_config(picture_dir, 'mlp', 0, dataset='folder', batch_size=4, limit_images=5))
    assert len(some) == 5 and some.class_names == all_pictures.class_names
    np.testing.assert_array_equal(some.labels, all_pictures.labels[:5])
