"""Training on tiny data: every architecture trains hybridized, exports reload in plain MXNet, resume is exact."""
import json
import os
import pickle
import signal

import matplotlib.image
import mxnet as mx
import numpy as np
import pytest

from conftest import ARCHITECTURES, assert_same_weights, onnx_outputs, tiny_config
from core.config import GANConfig
from core.errors import UserError
from core.sampling import ExportedGenerator
from core.training import GAN, Progress, Trainer, prepare_run, run_training


@pytest.fixture(scope='module', params=ARCHITECTURES, ids=lambda p: f'{p[0]}-{p[1]}')
def trained(request, idx_dir, tmp_path_factory):
    """A Trainer that ran 3 iterations of one architecture and wrote everything a run writes."""
    arch, classes = request.param
    cfg = tiny_config(idx_dir, arch, classes, max_iters=3, output_dir=str(tmp_path_factory.mktemp(arch) / 'run'))
    cfg, run, checkpoint = prepare_run(cfg, {}, resume=False)
    trainer = Trainer(cfg, run)
    trainer.setup(checkpoint)
    status = trainer.train()
    outputs = trainer.finish()
    return trainer, status, outputs


def test_trains_a_few_iterations(trained):
    trainer, status, outputs = trained
    assert status == 'finished' and trainer.state.iteration == 3
    figures = trainer.state.history
    assert len(figures) == 3 and all(np.isfinite(list(h.values())).all() for h in figures)
    assert all(0 <= h['D_x'] <= 1 and 0 <= h['D_G_z'] <= 1 for h in figures)
    # The weights moved: D's loss is not the untrained 2*log(2) any more.
    assert figures[-1]['loss_D'] != pytest.approx(figures[0]['loss_D'], abs=1e-4)


def test_writes_samples_loss_curve_log_checkpoint_and_config(trained):
    trainer, _, outputs = trained
    cfg, run = trainer.cfg, trainer.run
    samples = sorted(os.listdir(run.samples))
    assert samples == ['iter-00000002.png', 'iter-00000003.png']  # every draw_iter_num, and the end
    grid = matplotlib.image.imread(outputs['samples'])
    rows = cfg.num_classes or (10 if cfg.discriminator_type == 'infogan' else 8)  # InfoGAN: a row per category
    scale = 2 if cfg.image_size < 48 else 1
    assert grid.shape[0] == (rows * (cfg.image_size + 2) + 2) * scale
    assert grid.std() > 0.01  # not a blank picture
    assert matplotlib.image.imread(outputs['loss_curve']).shape[:2] == (450, 800)
    assert os.path.basename(outputs['checkpoint']) == 'iter-00000003'
    assert GANConfig.load(run.config) == cfg


def _export_of(trained, role):
    """(sidecar path, its contents, the live network exported) of one role of a trained fixture."""
    trainer, _, outputs = trained
    sidecar = [p for p in outputs['exports'] if p.endswith(f'-{role}-info.json')][0]
    # The generator exported is the sampling one (the moving average in the default recipe).
    live = trainer.gan.sampler if role == 'generator' else trainer.gan.discriminator
    return sidecar, json.load(open(sidecar)), live


def _random_inputs(info, count, num_classes, rng):
    """Numpy inputs for an export: uniform values in [-1, 1] for the first, classes (or InfoGAN's codes) for a second."""
    from core.data.codes import draw_codes
    inputs = [rng.uniform(-1, 1, (count, *info['input_shapes'][info['input_names'][0]])).astype(np.float32)]
    if len(info['input_names']) == 2:
        codes = info['input_shapes'][info['input_names'][1]]
        inputs.append(draw_codes(rng, count) if codes else rng.integers(0, num_classes, count).astype(np.float32))
    return inputs


def _numpy(out):
    """A network's output as a list of numpy arrays (two-headed discriminators have two outputs)."""
    return [x.asnumpy() for x in (out if isinstance(out, (list, tuple)) else [out])]


@pytest.mark.parametrize('role', ['generator', 'discriminator'])
def test_export_reloads_in_plain_mxnet_with_the_live_output(trained, role):
    trainer, cfg = trained[0], trained[0].cfg
    sidecar, info, net = _export_of(trained, role)
    assert info['architecture'] == cfg.discriminator_type and info['role'] == role
    assert info['noise_range'] == [-1.0, 1.0] and info['image_size'] == cfg.image_size
    assert info['epoch'] == len(trainer.state.epochs_done) == 3 * cfg.batch_size // 96 and info['iteration'] == 3
    two_inputs = cfg.conditional or (role == 'generator' and 'latent_codes' in info)
    assert info['input_names'] == (['data0', 'data1'] if two_inputs else ['data'])
    folder = os.path.dirname(sidecar)
    loaded = mx.gluon.SymbolBlock.imports(os.path.join(folder, info['symbol_file']), info['input_names'],
                                          os.path.join(folder, info['params_file']))
    inputs = [mx.nd.array(x) for x in _random_inputs(info, cfg.batch_size, cfg.num_classes, np.random.default_rng(7))]
    live = _numpy(net(*inputs))
    for a, b in zip(_numpy(loaded(*inputs)), live):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)
    if role == 'generator':  # what test.py uses: the same graph, hybridized with static memory
        sampler = ExportedGenerator(sidecar)
        labels = inputs[1].asnumpy() if two_inputs else None
        for _ in range(2):  # the second call runs on the memory planned by the first
            np.testing.assert_allclose(sampler.generate(inputs[0].asnumpy(), labels), live[0], rtol=1e-4, atol=1e-5)
    # Any batch size works in the export (for a discriminator: any multiple of its group).
    count = 3 * info.get('batch_multiple', 1)
    assert _numpy(loaded(*[mx.nd.concat(*[x] * 3, dim=0)[:count] for x in inputs]))[0].shape[0] == count


@pytest.mark.parametrize('role', ['generator', 'discriminator'])
def test_onnx_export_matches_the_live_network_at_any_batch_size(trained, role):
    cfg = trained[0].cfg
    sidecar, info, net = _export_of(trained, role)
    assert info['onnx_file'] == f'{cfg.name}-{role}.onnx'
    rng = np.random.default_rng(11)
    # Two batch sizes that the export was not traced with (the live network, with mkldnn, cannot take 1 sample).
    for count in (2 * info.get('batch_multiple', 1), 5 * info.get('batch_multiple', 1)):
        inputs = _random_inputs(info, count, cfg.num_classes, rng)
        live = net(*[mx.nd.array(x) for x in inputs])
        live = [x.asnumpy() for x in (live if isinstance(live, (list, tuple)) else [live])]
        got = onnx_outputs(sidecar, inputs)
        assert len(got) == len(live)
        for a, b in zip(live, got):
            np.testing.assert_allclose(b, a, rtol=1e-5, atol=1e-5)


class InterruptAt(Progress):
    """Sends this process a real SIGINT (Ctrl-C) after a given iteration."""

    def __init__(self, iteration):
        self.iteration, self.seen = iteration, 0

    def step(self, figures):
        self.seen += 1
        if self.seen == self.iteration:
            os.kill(os.getpid(), signal.SIGINT)


def test_stopped_and_resumed_run_matches_an_uninterrupted_one(idx_dir, tmp_path):
    """Ctrl-C after 4 iterations, then --resume to 9 (across an epoch end, with a decaying learning rate)."""
    cfg = tiny_config(idx_dir, 'conv28', 10, batch_size=16, epochs=5, max_iters=9, lr_decay=0.5, lr_decay_every=3)
    straight = run_training(tiny_config(idx_dir, 'conv28', 10, **{**_changes(cfg), 'output_dir': str(tmp_path / 'a')}),
                            {})
    assert straight[0] == 'finished'

    cfg_b = tiny_config(idx_dir, 'conv28', 10, **{**_changes(cfg), 'output_dir': str(tmp_path / 'b')})
    status, run, outputs = run_training(cfg_b, {}, progress=InterruptAt(4))
    assert status == 'stopped' and outputs['checkpoint'].endswith('iter-00000004')
    assert not os.path.exists(os.path.join(run.folder, 'export'))  # an interrupted run exports nothing
    status, run_b, _ = run_training(cfg_b, {'max_iters': 9}, resume=True)
    assert status == 'finished'

    assert_same_weights(straight[1], run_b)
    log_a = [json.loads(line) for line in open(straight[1].log)]
    log_b = [json.loads(line) for line in open(run_b.log)]
    assert [e['epoch'] for e in log_a] == [e['epoch'] for e in log_b] == [1]
    assert log_a[0]['loss_D'] == pytest.approx(log_b[0]['loss_D'], rel=1e-5)


@pytest.mark.parametrize('arch,classes', [('conv28', 10), ('lenet5', 0)])
def test_two_devices_update_the_weights_as_one_device_does(arch, classes, tmp_path):
    """cpu(0),cpu(1) split the batch, sum the gradients in a kvstore and step once: as one device does.

    The batch's two halves are the same images, noise and classes, so that
    BatchNorm (which normalises each device's share by the share's statistics)
    sees the statistics of the whole batch, and the comparison is exact. One
    iteration is compared: Adam moves every weight by about the learning rate
    whatever its gradient's size, so where a gradient is almost 0 a different
    summation order can flip a step, and later iterations amplify that.
    The mode-seeking term is off: it pairs the images within each device's
    share (as BatchNorm normalises them), and here the whole batch's halves are
    the same images, which it would rightly call collapsed. So is the
    translation (lenet5's recipe): the same shift on both devices, but its
    constant strips make ties in lenet5's max pooling, which oneDNN breaks
    differently for batches of 64 and 32 (G's gradients then differ by 1.6%;
    with conv28, which has no pooling, they agree within the 1% checked here).
    One G update (lenet5's recipe takes two): a second one draws its own
    noise, whose halves are not the same.
    """
    batch = 64 if arch == 'lenet5' else 16
    size = 28 if arch == 'conv28' else 64
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (batch // 2, 1, size, size)).astype(np.uint8)
    labels = rng.integers(0, 10, batch // 2)
    noise = rng.uniform(-1, 1, (batch // 2, 100)).astype(np.float32)
    step = [np.concatenate([a, a]) for a in (images, labels, noise)]
    results = {}
    for contexts in ([mx.cpu()], [mx.cpu(0), mx.cpu(1)]):
        cfg = GANConfig(discriminator_type=arch, num_classes=classes, image_size=size, batch_size=batch,
                        mode_seeking=0, translate=0, g_steps=1)
        gan = GAN(cfg, contexts)
        gan.materialize()
        figures = gan.step(*step)
        folder = tmp_path / str(len(contexts))
        folder.mkdir()
        gan.save(str(folder))
        # The weights as the last device holds them: the update reached every device.
        weights = {f'{role}-{name}': p.data(contexts[-1]).asnumpy()
                   for role, net in (('G', gan.generator), ('D', gan.discriminator))
                   for name, p in net.collect_params().items()}
        results[len(contexts)] = figures, weights, _adam_means(folder, gan)
    (figures_1, weights_1, means_1), (figures_2, weights_2, means_2) = results[1], results[2]
    assert figures_2 == pytest.approx(figures_1, rel=1e-5)
    # Adam's mean after one step is (1 - beta1) x the gradient: the summed, batch-normalised gradients agree.
    assert means_1.keys() == means_2.keys() and len(means_1) > 8
    for name in means_1:
        # Sums of many small terms differ in their last digits: compare as vectors, to 1%.
        # (A gradient not summed over the devices, or scaled by one device's batch, is off by 50-100%.)
        a, b = means_1[name], means_2[name]
        assert np.linalg.norm(b - a) <= 1e-2 * np.linalg.norm(a), name
    # Adam's first step is lr * gradient / (|gradient| + 1e-8): where gradients are ~1e-8 (behind BatchNorm)
    # the last digits of the sums decide its size and sign, so only most weights agree closely. Where the
    # gradient is over 1e-5 the step is +-lr to 0.1%, its sign the gradient's: there the two runs must agree
    # to 1% of lr (measured: 0.25% at worst). A device that missed the update, or a step of the other sign,
    # is off by lr or 2 lr.
    assert weights_1.keys() == weights_2.keys()
    cfg, clear_share = gan.cfg, []
    for name in weights_1:
        assert np.isclose(weights_2[name], weights_1[name], rtol=1e-5, atol=1e-6).mean() > 0.9, name
        if name in means_1:
            lr = cfg.g_learning_rate if name.startswith('G-') else cfg.d_learning_rate
            clear = np.abs(means_1[name] / (1 - cfg.beta1)) > 1e-5
            np.testing.assert_allclose(weights_2[name][clear], weights_1[name][clear], rtol=0, atol=0.01 * lr,
                                       err_msg=name)
            clear_share.append(clear.mean())
    assert np.mean(clear_share) > 0.5  # the tight check covers most weights


def _adam_means(folder, gan):
    """Adam's running mean of the gradients, by 'G-' or 'D-' and parameter name (it scales with the gradients)."""
    means = {}
    for role, trainer in (('generator', gan.trainer_g), ('discriminator', gan.trainer_d)):
        with open(folder / f'{role}.states', 'rb') as f:
            states = pickle.load(f)
        states = states[0] if isinstance(states, tuple) else states
        means.update({f'{role[0].upper()}-{trainer._params[index].name}': mean.asnumpy()
                      for index, (mean, _) in states.items()})
    return means


def test_a_run_on_two_devices_trains_and_exports(idx_dir, tmp_path):
    cfg = tiny_config(idx_dir, 'conv28', 10, batch_size=16, max_iters=2, context='cpu(0),cpu(1)',
                      output_dir=str(tmp_path / 'run'))
    status, run, outputs = run_training(cfg, {})
    assert status == 'finished' and len(outputs['exports']) == 2
    net = ExportedGenerator(next(p for p in outputs['exports'] if 'generator' in p))
    images = net.generate(np.zeros((3, 100), np.float32), np.arange(3))
    assert images.shape == (3, 1, 28, 28) and np.isfinite(images).all()


def _changes(cfg):
    keys = ('batch_size', 'epochs', 'max_iters', 'lr_decay', 'lr_decay_every')
    return {k: getattr(cfg, k) for k in keys}


def test_a_new_run_never_writes_into_a_used_folder(idx_dir, tmp_path):
    folder = tmp_path / 'mine'
    folder.mkdir()
    (folder / 'notes.txt').write_text('precious')
    cfg = tiny_config(idx_dir, 'conv28', 0, max_iters=1, output_dir=str(folder))
    with pytest.raises(UserError, match='not empty'):
        run_training(cfg, {})
    assert os.listdir(folder) == ['notes.txt'] and (folder / 'notes.txt').read_text() == 'precious'


def test_resume_keeps_the_run_settings(idx_dir, tmp_path):
    cfg = tiny_config(idx_dir, 'conv28', 0, max_iters=2, output_dir=str(tmp_path / 'run'))
    run_training(cfg, {})
    with pytest.raises(UserError, match='--g-learning-rate: cannot change when resuming'):
        prepare_run(cfg, {'g_learning_rate': 0.1}, resume=True)
    with pytest.raises(UserError, match='--recipe: cannot change when resuming'):
        prepare_run(cfg, {'recipe': 'seed'}, resume=True)
    resumed, _, checkpoint = prepare_run(cfg, {'max_iters': 5}, resume=True)
    assert resumed.max_iters == 5 and checkpoint.endswith('iter-00000002')
    with pytest.raises(UserError, match='no checkpoint'):
        prepare_run(tiny_config(idx_dir, 'conv28', 0, output_dir=str(tmp_path / 'empty')), {}, resume=True)


def test_runs_are_numbered_and_exports_also_go_to_the_export_root(idx_dir, tmp_path):
    runs, exports = str(tmp_path / 'runs'), str(tmp_path / 'model_export')
    cfg = tiny_config(idx_dir, 'conv28', 10, max_iters=1, model_name='cgan')
    _, first, _ = run_training(cfg, {}, runs_root=runs, export_root=exports)
    _, second, _ = run_training(cfg, {}, runs_root=runs, export_root=exports)
    assert [os.path.basename(r.folder) for r in (first, second)] == ['00001-cgan', '00002-cgan']
    assert sorted(os.listdir(exports)) == sorted(os.listdir(os.path.join(second.folder, 'export')))
    assert 'cgan-generator-info.json' in os.listdir(exports)
    resumed, run, _ = prepare_run(cfg, {}, resume=True, runs_root=runs, export_root=exports)
    assert run.folder == second.folder


def test_old_checkpoints_are_pruned_and_partial_ones_ignored(idx_dir, tmp_path):
    cfg = tiny_config(idx_dir, 'conv28', 0, batch_size=32, epochs=4, save_period=1, keep_checkpoints=2,
                      output_dir=str(tmp_path / 'run'))
    _, run, _ = run_training(cfg, {})
    assert [os.path.basename(p) for p in run.checkpoint_list()] == ['iter-00000009', 'iter-00000012']
    os.makedirs(os.path.join(run.checkpoints, '.iter-00000013.abc'))  # what a crash mid-save leaves
    assert run.latest_checkpoint().endswith('iter-00000012')
    resumed, _, checkpoint = prepare_run(cfg, {}, resume=True)
    assert checkpoint.endswith('iter-00000012')
    assert not [name for name in os.listdir(run.checkpoints) if name.startswith('.')]  # resume removes it


def test_checkpoints_have_the_usual_permissions(idx_dir, tmp_path):
    cfg = tiny_config(idx_dir, 'conv28', 0, max_iters=1, output_dir=str(tmp_path / 'run'))
    _, run, outputs = run_training(cfg, {})
    mask = os.umask(0)
    os.umask(mask)
    assert os.stat(outputs['checkpoint']).st_mode & 0o777 == 0o777 & ~mask
    assert os.stat(run.config).st_mode & 0o777 == 0o666 & ~mask


def test_checkpoint_minutes_saves_inside_an_epoch(idx_dir, tmp_path, monkeypatch):
    """With --checkpoint-minutes, a checkpoint comes as soon as that much training time has passed."""
    clock = iter(range(0, 10 ** 6, 25))  # each reading 25 s later: one checkpoint every 3 iterations
    monkeypatch.setattr('core.training.loop._clock', lambda: next(clock))
    cfg = tiny_config(idx_dir, 'conv28', 0, batch_size=8, epochs=3, max_iters=9, checkpoint_minutes=1.0,
                      keep_checkpoints=100, output_dir=str(tmp_path / 'run'))
    _, run, _ = run_training(cfg, {})
    saved = [int(os.path.basename(p).split('-')[1]) for p in run.checkpoint_list()]
    assert saved == [3, 6, 9]  # inside the first epoch (12 batches)
    cfg = tiny_config(idx_dir, 'conv28', 0, batch_size=8, epochs=3, max_iters=9, checkpoint_minutes=0,
                      keep_checkpoints=100, output_dir=str(tmp_path / 'off'))
    _, run, _ = run_training(cfg, {})
    assert [os.path.basename(p) for p in run.checkpoint_list()] == ['iter-00000009']  # only the end


def _read_events(folder):
    """(tag, step, value) of every scalar and image that TensorBoard shows from the event files under ``folder``.

    The files are TFRecord streams (length, its CRC, an Event protobuf, its CRC); images come back decoded.
    As TensorBoard does for files of version 'brain.Event:2' (tensorboardX's), they are read in name order,
    and a SessionLog START at step S (what a writer with ``purge_step=S`` writes first) hides every event
    read before it at step S or later.
    """
    import glob
    import io
    import struct

    from tensorboardX.proto import event_pb2

    found = []
    for path in sorted(glob.glob(os.path.join(folder, 'events.out.tfevents.*'))):
        data, pos = open(path, 'rb').read(), 0
        while pos < len(data):
            (length,) = struct.unpack('<Q', data[pos:pos + 8])
            event = event_pb2.Event.FromString(data[pos + 12:pos + 12 + length])
            pos += 12 + length + 4
            if event.HasField('session_log') and event.session_log.status == event_pb2.SessionLog.START:
                found = [entry for entry in found if entry[1] < event.step]
            for value in event.summary.value:
                if value.HasField('image'):
                    picture = matplotlib.image.imread(io.BytesIO(value.image.encoded_image_string), format='png')
                    found.append((value.tag, event.step, picture))
                else:
                    found.append((value.tag, event.step, value.simple_value))
    return found


def test_tensorboard_logs_losses_quality_and_sample_grids(idx_dir, tmp_path):
    cfg = tiny_config(idx_dir, 'conv28', 10, batch_size=32, epochs=2, draw_iter_num=3, tensorboard=True,
                      evaluate=True, eval_samples=20, judge='mnist', output_dir=str(tmp_path / 'run'))
    _, run, _ = run_training(cfg, {})
    events = _read_events(run.folder)
    state = json.load(open(os.path.join(run.latest_checkpoint(), 'state.json')))
    for key, tag in (('loss_D', 'train/loss_D'), ('loss_G', 'train/loss_G'), ('D_x', 'train/D_x'),
                     ('D_G_z', 'train/D_G_z')):
        logged = {step: value for t, step, value in events if t == tag}
        assert sorted(logged) == list(range(1, 7))  # 3 iterations an epoch, 2 epochs
        assert [logged[h['iteration']] for h in state['history']] == pytest.approx([h[key] for h in state['history']])
    fid = {step: value for t, step, value in events if t == 'quality/frechet_distance'}
    assert sorted(fid) == [3, 6]
    assert [fid[3], fid[6]] == pytest.approx([e['quality']['frechet_distance'] for e in state['epochs_done']])
    grids = [(step, picture) for t, step, picture in events if t == 'samples']
    assert [step for step, _ in grids] == [3, 6]  # every --draw-iter-num iterations; the end (6) once
    grids = dict(grids)
    png = matplotlib.image.imread(os.path.join(run.samples, 'iter-00000003.png'))[..., 0]
    np.testing.assert_allclose(grids[3][..., 0], png, atol=1 / 255 + 1e-6)  # the same picture as the PNG


def test_tensorboard_hides_what_a_killed_run_wrote_after_its_last_checkpoint(idx_dir, tmp_path):
    """Killed after iteration 6 but before its checkpoint, resumed from iteration 3 to 5: each step shows once.

    Without the purge, TensorBoard would show steps 4 and 5 twice and the dead process's step 6 (its losses,
    its epoch figure and its sample grid), which the resumed run never reached.
    """
    import shutil

    cfg = tiny_config(idx_dir, 'conv28', 10, batch_size=32, epochs=2, save_period=1, draw_iter_num=3,
                      tensorboard=True, output_dir=str(tmp_path / 'run'))
    _, run, _ = run_training(cfg, {})  # 3 iterations an epoch: checkpoints at 3 and 6
    assert {step for tag, step, _ in _read_events(run.folder) if tag == 'train/loss_D'} == set(range(1, 7))
    shutil.rmtree(run.latest_checkpoint())  # what the kill left: the events of 4 to 6, no checkpoint after 3
    _, run, _ = run_training(cfg, {'max_iters': 5}, resume=True)
    events = _read_events(run.folder)
    state = json.load(open(os.path.join(run.latest_checkpoint(), 'state.json')))
    assert [h['iteration'] for h in state['history']] == [1, 2, 3, 4, 5]
    for key, tag in (('loss_D', 'train/loss_D'), ('loss_G', 'train/loss_G'), ('D_G_z', 'train/D_G_z')):
        shown = [(step, value) for t, step, value in events if t == tag]
        assert [step for step, _ in shown] == [1, 2, 3, 4, 5], tag
        assert [value for _, value in shown] == pytest.approx([h[key] for h in state['history']])
    assert [step for t, step, _ in events if t == 'train/images_per_second'] == [3]  # the dead run's epoch 2: hidden
    assert [step for t, step, _ in events if t == 'samples'] == [3, 5]
