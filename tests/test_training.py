"""Training on tiny data: every architecture trains hybridized, exports reload in plain MXNet, resume is exact."""
import json
import os
import signal

import matplotlib.image
import mxnet as mx
import numpy as np
import pytest

from conftest import ARCHITECTURES, tiny_config
from core.config import GANConfig
from core.errors import UserError
from core.training import Progress, Trainer, prepare_run, run_training


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
    rows = cfg.num_classes or 8
    scale = 2 if cfg.image_size < 48 else 1
    assert grid.shape[0] == (rows * (cfg.image_size + 2) + 2) * scale
    assert grid.std() > 0.01  # not a blank picture
    assert matplotlib.image.imread(outputs['loss_curve']).shape[:2] == (450, 800)
    assert os.path.basename(outputs['checkpoint']) == 'iter-00000003'
    assert GANConfig.load(run.config) == cfg


@pytest.mark.parametrize('role', ['generator', 'discriminator'])
def test_export_reloads_in_plain_mxnet_with_the_live_output(trained, role):
    trainer, _, outputs = trained
    cfg = trainer.cfg
    sidecar = [p for p in outputs['exports'] if p.endswith(f'-{role}-info.json')][0]
    info = json.load(open(sidecar))
    assert info['architecture'] == cfg.discriminator_type and info['role'] == role
    assert info['noise_range'] == [-1.0, 1.0] and info['image_size'] == cfg.image_size
    assert info['epoch'] == 0 and info['iteration'] == 3
    assert info['input_names'] == (['data0', 'data1'] if cfg.conditional else ['data'])
    folder = os.path.dirname(sidecar)
    loaded = mx.gluon.SymbolBlock.imports(os.path.join(folder, info['symbol_file']), info['input_names'],
                                          os.path.join(folder, info['params_file']))
    rng = np.random.default_rng(7)
    first = info['input_shapes'][info['input_names'][0]]
    batch = cfg.batch_size
    inputs = [mx.nd.array(rng.uniform(-1, 1, (batch, *first)))]
    if cfg.conditional:
        inputs.append(mx.nd.array(rng.integers(0, cfg.num_classes, batch)))
    live = getattr(trainer.gan, role)(*inputs).asnumpy()
    np.testing.assert_allclose(loaded(*inputs).asnumpy(), live, rtol=1e-4, atol=1e-5)
    # Any batch size works in the export.
    assert loaded(*[x[:3] for x in inputs]).shape[0] == 3


class InterruptAt(Progress):
    """Sends this process a real SIGINT (Ctrl-C) after a given iteration."""

    def __init__(self, iteration):
        self.iteration, self.seen = iteration, 0

    def step(self, figures):
        self.seen += 1
        if self.seen == self.iteration:
            os.kill(os.getpid(), signal.SIGINT)


def _params(folder):
    return {k: v.asnumpy() for name in ('generator', 'discriminator')
            for k, v in mx.nd.load(os.path.join(folder, f'{name}.params')).items()}


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

    a, b = _params(straight[1].latest_checkpoint()), _params(run_b.latest_checkpoint())
    assert a.keys() == b.keys()
    for key in a:
        np.testing.assert_allclose(a[key], b[key], rtol=1e-5, atol=1e-7, err_msg=key)
    log_a = [json.loads(line) for line in open(straight[1].log)]
    log_b = [json.loads(line) for line in open(run_b.log)]
    assert [e['epoch'] for e in log_a] == [e['epoch'] for e in log_b] == [1]
    assert log_a[0]['loss_D'] == pytest.approx(log_b[0]['loss_D'], rel=1e-5)


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
    with pytest.raises(UserError, match='--learning-rate: cannot change when resuming'):
        prepare_run(cfg, {'learning_rate': 0.1}, resume=True)
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
