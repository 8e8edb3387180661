"""The training loop: alternating D and G updates, samples, checkpoints, resume and export."""
import contextlib
import glob
import json
import logging
import os
import re
import shutil
import signal
import threading
import time

import mxnet as mx
import numpy as np
from mxnet import autograd, gluon

from . import data as datalib
from .config import RESUMABLE_OPTIONS, GANConfig
from .errors import UserError, short_reason
from .export import export_pair
from .fileio import atomic_folder, atomic_path, write_json
from .networks import build_networks
from .visualize import GridWindow, has_display, save_grid, save_loss_curve

log = logging.getLogger(__name__)

PROJECT_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RUNS_ROOT = os.path.join(PROJECT_ROOT, 'runs')
EXPORT_ROOT = os.path.join(PROJECT_ROOT, 'model_export')
CHECKPOINT_PATTERN = re.compile(r'iter-(\d{8})$')


# --- Context and networks -------------------------------------------------------

def select_contexts(devices):
    """The mxnet contexts for the config's ``devices()`` ('auto', or names such as 'gpu(1)')."""
    gpus = mx.context.num_gpus()
    if devices == ['auto']:
        return [mx.gpu(0) if gpus else mx.cpu()]
    contexts = []
    for name in devices:
        kind, index = name[:3], int(name[4:-1])
        if kind == 'gpu' and index >= gpus:
            raise UserError(f"--context {name}: this machine has {gpus} GPU(s) visible to mxnet "
                            "(the CPU wheel sees none; install mxnet-cu112 for CUDA 11.2, or use --context cpu)")
        contexts.append(mx.gpu(index) if kind == 'gpu' else mx.cpu(index))
    return contexts


class GAN:
    """A generator, a discriminator, their optimizers, and one training step.

    Conditioning is a parameter: with ``cfg.num_classes > 0`` both networks
    take the class as a second input and everything else stays the same.

    With several contexts each batch is split across them (data parallel):
    every device computes the gradients of its share, a kvstore sums them and
    one optimizer step applies them, as one device would with the whole batch.
    The one difference: BatchNorm normalises each share by its own statistics
    (as mxnet's and gluon-cv's multi-GPU training does): mxnet 1.9.1's
    SyncBatchNorm deadlocks on CPU contexts (measured; README, "Several
    devices"), so it is not used.
    """

    def __init__(self, cfg, contexts):
        self.cfg = cfg
        self.contexts = list(contexts) if isinstance(contexts, (list, tuple)) else [contexts]
        self.ctx = self.contexts[0]  # where sampling and evaluation run
        self.device_batch = cfg.batch_size // len(self.contexts)
        mx.random.seed(cfg.seed)  # weight initialisation follows the run's seed
        self.generator, self.discriminator = build_networks(cfg, self.contexts)
        # static_shape on several devices makes mxnet 1.9.1 drop BatchNorm's
        # running statistics (they stay at their initial values; measured), so
        # it is used on one device only.
        for net in (self.generator, self.discriminator):
            net.hybridize(static_alloc=True, static_shape=len(self.contexts) == 1)
        self.trainer_g = self._trainer(self.generator)
        self.trainer_d = self._trainer(self.discriminator)
        # Scores are logits: the sigmoid lives inside the loss, which is stable.
        self.loss = gluon.loss.SigmoidBinaryCrossEntropyLoss(from_sigmoid=False)
        self._real = [mx.nd.ones((self.device_batch, 1), ctx=c) for c in self.contexts]
        self._fake = [mx.nd.zeros((self.device_batch, 1), ctx=c) for c in self.contexts]

    def _trainer(self, net):
        cfg = self.cfg
        options = {'learning_rate': cfg.learning_rate, 'beta1': cfg.beta1, 'beta2': cfg.beta2,
                   'wd': cfg.weight_decay}
        if cfg.lr_decay_every and cfg.lr_decay != 1:
            options['lr_scheduler'] = mx.lr_scheduler.FactorScheduler(
                step=cfg.lr_decay_every, factor=cfg.lr_decay, base_lr=cfg.learning_rate)
        # One device needs no kvstore; several sum their gradients in one.
        kvstore = 'device' if len(self.contexts) > 1 else None
        return gluon.Trainer(net.collect_params(), 'adam', options, kvstore=kvstore)

    def _split(self, array):
        """A host array as one NDArray per context, split along the batch."""
        return gluon.utils.split_and_load(array, self.contexts, even_split=True)

    def update_discriminator(self, reals, noises, conds):
        """(1) Update D: maximize log D(x) + log(1 - D(G(z))). Returns per-device losses and D's outputs.

        Each argument holds one entry per device; ``conds`` are tuples of extra
        inputs (the class, or nothing). All devices' work is queued before any
        result is read, so the devices run at the same time.
        """
        # G runs in training mode (BatchNorm on batch statistics) but is not
        # recorded: D's update needs G's images, not G's gradients.
        with autograd.train_mode():
            fakes = [self.generator(z, *c) for z, c in zip(noises, conds)]
        with autograd.record():
            outs_real = [self.discriminator(x, *c) for x, c in zip(reals, conds)]
            outs_fake = [self.discriminator(f, *c) for f, c in zip(fakes, conds)]
            losses = [self.loss(r, ones) + self.loss(f, zeros)
                      for r, f, ones, zeros in zip(outs_real, outs_fake, self._real, self._fake)]
        autograd.backward(losses)
        self.trainer_d.step(self.cfg.batch_size)
        return losses, outs_real, outs_fake

    def update_generator(self, noises, conds):
        """(2) Update G: maximize log D(G(z)) (the non-saturating loss). Returns per-device losses."""
        # The fake batch is computed again inside this recording: D has just
        # changed, and reusing a graph recorded in another scope fails in
        # hybridized mxnet 1.9.1.
        with autograd.record():
            fakes = [self.generator(z, *c) for z, c in zip(noises, conds)]
            outs = [self.discriminator(f, *c) for f, c in zip(fakes, conds)]
            losses = [self.loss(out, ones) for out, ones in zip(outs, self._real)]
        autograd.backward(losses)
        self.trainer_g.step(self.cfg.batch_size)
        return losses

    def step(self, images, labels, noise):
        """One D update then one G update; returns the iteration's figures as floats."""
        reals = self._split(datalib.to_model_range(images)[:, None])
        noises = self._split(noise)
        conds = [(c,) for c in self._split(labels.astype(np.float32))] if self.cfg.conditional \
            else [()] * len(self.contexts)
        losses_d, outs_real, outs_fake = self.update_discriminator(reals, noises, conds)
        losses_g = self.update_generator(noises, conds)
        # Sums per device, added on the host: the figures are means over the whole batch.
        sums = sum(mx.nd.stack(ld.sum(), lg.sum(), mx.nd.sigmoid(r).sum(), mx.nd.sigmoid(f).sum()).asnumpy()
                   for ld, lg, r, f in zip(losses_d, losses_g, outs_real, outs_fake))
        return dict(zip(('loss_D', 'loss_G', 'D_x', 'D_G_z'), map(float, sums / self.cfg.batch_size)))

    def materialize(self):
        """Run both networks once on zeros so that every parameter exists (before a checkpoint loads)."""
        cfg = self.cfg
        labels = np.zeros(self.device_batch, np.float32) if cfg.conditional else None
        images = self.generate(np.zeros((self.device_batch, cfg.noise_dim), np.float32), labels)
        cond = () if labels is None else (mx.nd.array(labels, ctx=self.ctx),)
        self.discriminator(mx.nd.array(images, ctx=self.ctx), *cond).wait_to_read()

    def generate(self, noise, labels=None):
        """Images (N, 1, H, W) in [-1, 1] in inference mode, on the first context.

        Batches have one device's training size, padded at the end: the graph
        keeps its static shape.
        """
        batch = self.device_batch
        out = []
        for start in range(0, len(noise), batch):
            chunk = noise[start:start + batch]
            pad = batch - len(chunk)
            z = np.concatenate([chunk, np.zeros((pad, chunk.shape[1]), np.float32)])
            args = [mx.nd.array(z, ctx=self.ctx)]
            if self.cfg.conditional:
                args.append(mx.nd.array(np.concatenate([labels[start:start + batch], np.zeros(pad)]), ctx=self.ctx))
            out.append(self.generator(*args).asnumpy()[:len(chunk)])
        return np.concatenate(out)

    # --- Checkpoints ---------------------------------------------------------------
    def save(self, folder):
        mx.nd.waitall()  # static_alloc graphs may still be writing BatchNorm statistics
        self.generator.save_parameters(os.path.join(folder, 'generator.params'))
        self.discriminator.save_parameters(os.path.join(folder, 'discriminator.params'))
        self.trainer_g.save_states(os.path.join(folder, 'generator.states'))
        self.trainer_d.save_states(os.path.join(folder, 'discriminator.states'))

    def load(self, folder):
        try:
            self.generator.load_parameters(os.path.join(folder, 'generator.params'), ctx=self.contexts)
            self.discriminator.load_parameters(os.path.join(folder, 'discriminator.params'), ctx=self.contexts)
            self.trainer_g.load_states(os.path.join(folder, 'generator.states'))
            self.trainer_d.load_states(os.path.join(folder, 'discriminator.states'))
        except Exception as e:
            raise UserError(f"cannot load the checkpoint {folder}: {short_reason(e)}") from None


# --- Run folders ----------------------------------------------------------------------

class Run:
    """The folder of one training run and the names of what it holds."""

    def __init__(self, folder, export_dirs):
        self.folder = folder
        self.export_dirs = export_dirs
        self.config = os.path.join(folder, 'config.json')
        self.samples = os.path.join(folder, 'samples')
        self.checkpoints = os.path.join(folder, 'checkpoints')
        self.log = os.path.join(folder, 'log.jsonl')
        self.loss_curve = os.path.join(folder, 'loss.png')

    def checkpoint_list(self):
        """Complete checkpoints, oldest first (folders being written start with '.')."""
        found = []
        for path in glob.glob(os.path.join(self.checkpoints, 'iter-*')):
            match = CHECKPOINT_PATTERN.search(path)
            if match and os.path.isfile(os.path.join(path, 'state.json')):
                found.append((int(match.group(1)), path))
        return [path for _, path in sorted(found)]

    def latest_checkpoint(self):
        checkpoints = self.checkpoint_list()
        return checkpoints[-1] if checkpoints else None


def _next_run_folder(name, runs_root):
    numbers = [int(m.group(1)) for m in (re.match(r'(\d{5})-', os.path.basename(p))
                                         for p in glob.glob(os.path.join(runs_root, '*'))) if m]
    return os.path.join(runs_root, f'{max(numbers, default=0) + 1:05d}-{name}')


def _newest_run_with_checkpoint(name, runs_root):
    for folder in sorted(glob.glob(os.path.join(runs_root, f'[0-9][0-9][0-9][0-9][0-9]-{name}')), reverse=True):
        if Run(folder, []).latest_checkpoint():
            return folder
    return None


def prepare_run(cfg, explicit, resume, runs_root=RUNS_ROOT, export_root=EXPORT_ROOT):
    """Decide the run folder and the settings to use; never touch an existing run unless resuming.

    Returns (cfg, run, checkpoint). On resume the saved settings are used and
    only options in RESUMABLE_OPTIONS may be changed on the command line.
    """
    cfg.validate()
    if resume:
        folder = cfg.output_dir or _newest_run_with_checkpoint(cfg.name, runs_root)
        if not folder:
            raise UserError(f"--resume: no run of {cfg.name!r} with a checkpoint under {runs_root}; "
                            "give --output-dir FOLDER of the run to resume")
        run = Run(folder, [])
        checkpoint = run.latest_checkpoint()
        if not os.path.isfile(run.config) or not checkpoint:
            raise UserError(f"--resume: {folder} holds no checkpoint to resume from")
        saved = GANConfig.load(run.config)
        for key, value in explicit.items():
            if key not in RESUMABLE_OPTIONS and value != getattr(saved, key):
                raise UserError(f"--{key.replace('_', '-')}: cannot change when resuming (the run used "
                                f"{getattr(saved, key)!r}); start a new run instead")
        cfg = GANConfig(**{**saved.to_dict(), **{k: v for k, v in explicit.items() if k in RESUMABLE_OPTIONS}})
        cfg.validate()
    else:
        folder = cfg.output_dir or _next_run_folder(cfg.name, runs_root)
        if os.path.exists(folder) and os.listdir(folder):
            raise UserError(f"--output-dir: {folder} is not empty; add --resume to continue the run there, "
                            "or choose a new folder")
        checkpoint = None
    # With --output-dir everything stays in that folder; otherwise the exports
    # also go to model_export/, where test.py and other programs look first.
    export_dirs = [os.path.join(folder, 'export')] + ([] if cfg.output_dir else [export_root])
    return cfg, Run(folder, export_dirs), checkpoint


# --- Progress reporting ------------------------------------------------------------------

class Progress:
    """Receives the loop's events. This default logs epoch summaries; scripts draw a progress bar."""

    def epoch_start(self, epoch, epochs, done, total):
        pass

    def step(self, figures):
        pass

    def epoch_end(self, summary):
        log.info("epoch %(epoch)d: loss_D %(loss_D).4f loss_G %(loss_G).4f D(x) %(D_x).3f "
                 "D(G(z)) %(D_G_z).3f, %(seconds).1f s", summary)

    def message(self, text):
        log.info("%s", text)


@contextlib.contextmanager
def stop_request_on_sigint():
    """Turn the first Ctrl-C into a request to stop after the current iteration.

    Yields a threading.Event that is set on Ctrl-C. A second Ctrl-C stops at
    once (KeyboardInterrupt); the checkpoints already written stay as they are.
    """
    stop = threading.Event()
    if threading.current_thread() is not threading.main_thread():
        yield stop
        return

    def handler(signum, frame):
        if stop.is_set():
            raise KeyboardInterrupt
        stop.set()

    previous = signal.signal(signal.SIGINT, handler)
    try:
        yield stop
    finally:
        signal.signal(signal.SIGINT, previous)


# --- The loop ------------------------------------------------------------------------------

class TrainingState:
    """Counters and history that a checkpoint stores beside the weights."""

    def __init__(self, iteration=0, epoch=0, batch=0, history=None, epochs_done=None):
        self.iteration = iteration      # iterations done in all
        self.epoch = epoch              # the epoch in progress (0-based)
        self.batch = batch              # batches of that epoch done
        self.history = history or []    # per-iteration figures
        self.epochs_done = epochs_done or []  # per-epoch summaries

    def to_dict(self):
        return dict(iteration=self.iteration, epoch=self.epoch, batch=self.batch,
                    history=self.history, epochs_done=self.epochs_done)


def _sample_inputs(cfg):
    """Fixed noise (and classes) for the sample grids: 8x8 digits, or one row per class."""
    if cfg.conditional:
        per_class = 10
        noise = np.tile(datalib.fixed_noise(cfg.seed, per_class, cfg.noise_dim, cfg.noise_range), (cfg.num_classes, 1))
        labels = np.repeat(np.arange(cfg.num_classes), per_class).astype(np.float32)
        return noise, labels, cfg.num_classes
    return datalib.fixed_noise(cfg.seed, 64, cfg.noise_dim, cfg.noise_range), None, 8


class Trainer:
    """Runs the configured training in ``run``, reporting to ``progress``."""

    def __init__(self, cfg, run, progress=None, dataset=None):
        self.cfg = cfg
        self.run = run
        self.progress = progress or Progress()
        self.dataset = dataset
        self.contexts = select_contexts(cfg.devices())
        self.gan = None
        self.state = TrainingState()
        self.window = None
        self.judge = self.judge_reference = None

    # Checkpoints ---------------------------------------------------------------
    def save_checkpoint(self):
        if not self.cfg.if_save_params:
            return None
        path = os.path.join(self.run.checkpoints, f'iter-{self.state.iteration:08d}')
        if os.path.isdir(path):
            return path  # this iteration is saved already
        with atomic_folder(path) as tmp:
            self.gan.save(tmp)
            write_json(os.path.join(tmp, 'state.json'), self.state.to_dict())
        for old in self.run.checkpoint_list()[:-self.cfg.keep_checkpoints]:
            shutil.rmtree(old)
        return path

    def load_checkpoint(self, path):
        self.gan.load(path)
        with open(os.path.join(path, 'state.json')) as f:
            self.state = TrainingState(**json.load(f))

    # Outputs ----------------------------------------------------------------------
    def write_samples(self):
        noise, labels, rows = self.sample_inputs
        images = self.gan.generate(noise, labels)
        path = os.path.join(self.run.samples, f'iter-{self.state.iteration:08d}.png')
        save_grid(path, images, rows)
        if self.cfg.if_drawing and has_display():
            self.window = self.window or GridWindow()
            self.window.show(path, f'{self.cfg.name}, iteration {self.state.iteration}')
        return path

    def judge_samples(self):
        """The MNIST judge's figures for ``eval_samples`` samples of the current generator."""
        from .judge import judge_generator, load_judge, reference_statistics
        cfg = self.cfg
        if self.judge is None:  # loaded once per run, with the test digits' statistics
            self.judge = load_judge()
            self.judge_reference = reference_statistics(self.judge)
        noise = datalib.fixed_noise(cfg.seed + 1, cfg.eval_samples, cfg.noise_dim, cfg.noise_range)
        return judge_generator(self.judge, self.gan.generate, noise, cfg.num_classes, self.judge_reference)

    def write_log(self):
        """Rewrite log.jsonl from the epoch summaries, so a resumed run never repeats lines."""
        with atomic_path(self.run.log) as tmp, open(tmp, 'w') as f:
            for summary in self.state.epochs_done:
                f.write(json.dumps(summary) + '\n')

    def export(self):
        paths = []
        for folder in self.run.export_dirs:
            paths += export_pair(self.gan.generator, self.gan.discriminator, folder, self.cfg,
                                 epoch=len(self.state.epochs_done), iteration=self.state.iteration)
        return paths

    # The loop ----------------------------------------------------------------------
    def setup(self, checkpoint=None):
        cfg = self.cfg
        if self.dataset is None:
            self.dataset = datalib.prepare_dataset(cfg)
        os.makedirs(self.run.folder, exist_ok=True)
        cfg.save(self.run.config)
        self.gan = GAN(cfg, self.contexts)
        self.sample_inputs = _sample_inputs(cfg)
        self.gan.materialize()
        if checkpoint:
            self.load_checkpoint(checkpoint)
            self.progress.message(f"resumed from {checkpoint} (iteration {self.state.iteration})")

    def finished(self):
        cfg = self.cfg
        return self.state.epoch >= cfg.epochs or (cfg.max_iters and self.state.iteration >= cfg.max_iters)

    def train(self, stop=None):
        """Train until the configured end or until ``stop`` is set; returns 'finished' or 'stopped'."""
        cfg, state = self.cfg, self.state
        stop = stop or threading.Event()
        n = len(self.dataset)
        per_epoch = datalib.batches_per_epoch(n, cfg.batch_size)
        while not self.finished():
            order = datalib.epoch_order(cfg.seed, state.epoch, n)
            self.progress.epoch_start(state.epoch, cfg.epochs, state.batch, per_epoch)
            started, first_batch = time.perf_counter(), state.batch
            while state.batch < per_epoch and not self.finished():
                if stop.is_set():
                    return 'stopped'
                index = order[state.batch * cfg.batch_size:(state.batch + 1) * cfg.batch_size]
                noise = datalib.iteration_noise(cfg.seed, state.iteration, cfg.batch_size,
                                                cfg.noise_dim, cfg.noise_range)
                figures = self.gan.step(self.dataset.images[index], self.dataset.labels[index], noise)
                state.iteration += 1
                state.batch += 1
                state.history.append(dict(figures, iteration=state.iteration))
                self.progress.step(figures)
                if state.iteration % cfg.draw_iter_num == 0:
                    self.write_samples()
            if state.batch < per_epoch:
                break  # --max-iters ended the run inside this epoch
            self._end_epoch(time.perf_counter() - started, state.batch - first_batch)
        return 'finished'

    def _end_epoch(self, seconds, batches):
        """Summarise the epoch (``batches`` of it ran in ``seconds`` in this process), log, checkpoint."""
        cfg, state = self.cfg, self.state
        recent = state.history[-state.batch:]  # the whole epoch, including before a resume
        summary = {key: float(np.mean([h[key] for h in recent])) for key in ('loss_D', 'loss_G', 'D_x', 'D_G_z')}
        summary.update(epoch=state.epoch + 1, iteration=state.iteration, seconds=round(seconds, 2),
                       images_per_second=round(batches * cfg.batch_size / max(seconds, 1e-9), 2))
        if cfg.evaluate:
            summary['quality'] = self.judge_samples()
        state.epochs_done.append(summary)
        state.epoch += 1
        state.batch = 0
        self.progress.epoch_end(summary)
        self.write_log()
        if state.epoch % cfg.save_period == 0:
            self.save_checkpoint()

    def finish(self):
        """What the end of a run writes: last samples, checkpoint, loss curve, exports."""
        outputs = {'samples': self.write_samples()}
        checkpoint = self.save_checkpoint()
        if checkpoint:
            outputs['checkpoint'] = checkpoint
        self.write_log()
        if self.state.history:
            outputs['loss_curve'] = save_loss_curve(self.run.loss_curve, self.state.history,
                                                    f'{self.cfg.name}: losses per iteration')
        outputs['exports'] = self.export()
        return outputs


def run_training(cfg, explicit, resume=False, progress=None, runs_root=RUNS_ROOT, export_root=EXPORT_ROOT,
                 dataset=None):
    """Everything ``train.py`` does: prepare the run, train, and write the results.

    Returns (status, run, outputs): status 'finished' or 'stopped' (Ctrl-C:
    a checkpoint was written and ``--resume`` continues).
    """
    cfg, run, checkpoint = prepare_run(cfg, explicit, resume, runs_root, export_root)
    trainer = Trainer(cfg, run, progress, dataset)
    trainer.setup(checkpoint)
    with stop_request_on_sigint() as stop:
        status = trainer.train(stop)
    if status == 'stopped':
        path = trainer.save_checkpoint()
        trainer.write_log()
        return status, run, {'checkpoint': path} if path else {}
    return status, run, trainer.finish()
