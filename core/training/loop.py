"""The training loop: iterations over epochs, sample grids, checkpoints, resume, Ctrl-C and export."""
import contextlib
import dataclasses
import json
import logging
import math
import os
import shutil
import signal
import threading
import time

import numpy as np

from .. import data as datalib
from ..data.codes import CATEGORIES, code_grid
from ..export.mxnet import export_pair
from ..errors import UserError
from ..fileio import atomic_folder, atomic_path, write_json
from ..paths import EXPORT_ROOT, RUNS_ROOT
from ..visualize import GridWindow, grid_picture, has_display, read_picture, save_grid, save_loss_curve, save_scatter
from .finetune import initialize_from
from .gan import GAN, select_contexts
from .runs import prepare_run
from .tensorboard import TensorBoardLog

log = logging.getLogger(__name__)

_clock = time.monotonic  # what --checkpoint-minutes and --max-minutes measure (tests replace it)


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
    """Fixed noise (and classes) for the sample grids: 8x8 digits, or one row per class (per category code)."""
    from ..networks import draws_points, takes_codes
    if draws_points(cfg.discriminator_type):  # seed 004's toy: 1,000 points for a scatter plot
        return datalib.fixed_noise(cfg.seed, 1000, cfg.noise_dim, cfg.noise_range, cfg.noise_distribution), None, None
    if takes_codes(cfg.discriminator_type):  # InfoGAN: row r has categorical code r; each column one noise
        noise = np.tile(datalib.fixed_noise(cfg.seed, 10, cfg.noise_dim, cfg.noise_range, cfg.noise_distribution),
                        (CATEGORIES, 1))
        return noise, code_grid(10, span=0.0), CATEGORIES
    if cfg.conditional:
        per_class = 10
        noise = np.tile(datalib.fixed_noise(cfg.seed, per_class, cfg.noise_dim, cfg.noise_range, cfg.noise_distribution),
                        (cfg.num_classes, 1))
        labels = np.repeat(np.arange(cfg.num_classes), per_class).astype(np.float32)
        return noise, labels, cfg.num_classes
    return datalib.fixed_noise(cfg.seed, 64, cfg.noise_dim, cfg.noise_range, cfg.noise_distribution), None, 8


class Trainer:
    """Runs the configured training in ``run``, reporting to ``progress``."""

    def __init__(self, cfg, run, progress=None, dataset=None, cluster=None):
        self.cfg = cfg
        self.run = run
        self.progress = progress or Progress()
        self.dataset = dataset
        self.cluster = cluster  # --kvstore dist_sync: this worker's place in the job (distributed.py)
        self.writes = cluster is None or cluster.writes  # only worker 0 writes the run's files
        self.contexts = select_contexts(cfg.devices())
        self.gan = None
        self.state = TrainingState()
        self.window = None
        self.judge = None  # the judge of --evaluate (core/judge.py), with its reference features
        self.tensorboard = None
        self.last_checkpoint_time = None  # set when training starts and at each checkpoint
        self.training_started = None  # when train() began: --max-minutes counts from there
        self.time_is_up = False  # --max-minutes has run out
        self.samples_written_at = None  # the iteration of the last sample grid written
        self.points = False  # set by setup(): the data are 2-D points (seed 004's toy), not pictures

    # Checkpoints ---------------------------------------------------------------
    def save_checkpoint(self):
        if not self.cfg.if_save_params or not self.writes:
            return None
        path = os.path.join(self.run.checkpoints, f'iter-{self.state.iteration:08d}')
        if os.path.isdir(path):
            return path  # this iteration is saved already
        with atomic_folder(path) as tmp:
            self.gan.save(tmp)
            write_json(os.path.join(tmp, 'state.json'), self.state.to_dict())
        self.last_checkpoint_time = _clock()
        for old in self.run.checkpoint_list()[:-self.cfg.keep_checkpoints]:
            shutil.rmtree(old)
        return path

    def checkpoint_due(self):
        """True when --checkpoint-minutes of training have passed since the last checkpoint (or the start)."""
        minutes = self.cfg.checkpoint_minutes
        return bool(minutes) and _clock() - self.last_checkpoint_time >= 60 * minutes

    def load_checkpoint(self, path):
        self.gan.load(path)
        with open(os.path.join(path, 'state.json')) as f:
            self.state = TrainingState(**json.load(f))

    # Outputs ----------------------------------------------------------------------
    def write_samples(self):
        if not self.writes:
            return None
        path = os.path.join(self.run.samples, f'iter-{self.state.iteration:08d}.png')
        if self.samples_written_at == self.state.iteration:
            return path  # the run ends on a drawing iteration: that grid is written already
        self.samples_written_at = self.state.iteration
        noise, labels, rows = self.sample_inputs
        images = self.gan.generate(noise, labels)
        if self.points:  # a scatter plot over the target's points
            save_scatter(path, images, self.dataset.images[:2000], f'{self.cfg.name}, iteration {self.state.iteration}')
        else:
            save_grid(path, images, rows, value_range=self.gan.value_range)
        if self.tensorboard:
            picture = read_picture(path) if self.points else \
                grid_picture(images, rows, value_range=self.gan.value_range)
            self.tensorboard.samples(self.state.iteration, picture)
        if self.cfg.if_drawing and has_display():
            self.window = self.window or GridWindow()
            self.window.show(path, f'{self.cfg.name}, iteration {self.state.iteration}')
        return path

    def judge_samples(self):
        """The judge's figures for ``eval_samples`` samples of the current generator (2-D ones for the toy)."""
        from ..judge import judge_generator
        cfg = self.cfg
        noise = datalib.fixed_noise(cfg.seed + 1, cfg.eval_samples, cfg.noise_dim, cfg.noise_range, cfg.noise_distribution)
        if self.points:
            from ..toy_judge import judge_points
            return judge_points(self.gan.generate(noise), cfg.resolved().dataset)
        return judge_generator(self.judge, self.gan.generate, noise, cfg.num_classes, self.gan.value_range)

    def write_log(self):
        """Rewrite log.jsonl from the epoch summaries, so a resumed run never repeats lines."""
        if not self.writes:
            return
        with atomic_path(self.run.log) as tmp, open(tmp, 'w') as f:
            for summary in self.state.epochs_done:
                f.write(json.dumps(summary) + '\n')

    def export(self):
        paths = []
        if not self.writes:
            return paths
        for folder in self.run.export_dirs:
            paths += export_pair(self.gan.sampler, self.gan.discriminator, folder, self.cfg,
                                 epoch=len(self.state.epochs_done), iteration=self.state.iteration,
                                 class_names=self.dataset.class_names)
        return paths

    # The loop ----------------------------------------------------------------------
    def setup(self, checkpoint=None):
        cfg = self.cfg
        if self.dataset is None:
            self.dataset = datalib.prepare_dataset(cfg)
        self.points = datalib.is_points(self.dataset.images)  # seed 004's toy: 2-D points, not pictures
        if not cfg.channels and not self.points:  # follow the data: config.json and the export record it
            self.cfg = cfg = dataclasses.replace(cfg, channels=self.dataset.channels)
        if cfg.evaluate and self.writes and not self.points:  # the judge, found once, before training
            from ..judge import find_judge
            try:
                self.judge = find_judge(cfg.resolved().dataset, cfg.data_dir, cfg.judge)
            except UserError as e:
                self.progress.message(f"--evaluate: {e}; training goes on without quality figures")
                self.cfg = cfg = dataclasses.replace(cfg, evaluate=False)
        self.gan = GAN(cfg, self.contexts, self.cluster)
        self.sample_inputs = _sample_inputs(cfg)
        self.gan.materialize()
        if checkpoint:  # a resumed run continues from its own checkpoint, --init-from or not
            self.load_checkpoint(checkpoint)
            self.progress.message(f"resumed from {checkpoint} (iteration {self.state.iteration})")
        elif cfg.init_from:
            self.progress.message(initialize_from(self.gan, cfg))
        if self.writes:  # only now: weights that do not fit leave no run folder behind
            os.makedirs(self.run.folder, exist_ok=True)
            cfg.save(self.run.config)
        self.gan.start_workers_alike()
        if cfg.tensorboard and self.writes:
            self.tensorboard = TensorBoardLog(self.run.folder, resume_at=self.state.iteration)

    def finished(self):
        cfg = self.cfg
        return self.state.epoch >= cfg.epochs or (cfg.max_iters and self.state.iteration >= cfg.max_iters)

    def check_time(self):
        """Whether --max-minutes of training in this process have passed; says so once, when they have."""
        minutes = self.cfg.max_minutes
        if not minutes or self.time_is_up:
            return self.time_is_up
        up = _clock() - self.training_started >= 60 * minutes
        if self.cluster:  # every worker stops after the same iteration, or none does
            up = self.cluster.anyone(up)
        if up:
            self.time_is_up = True
            self.progress.message(f"--max-minutes {minutes:g}: the time is up after iteration {self.state.iteration}; "
                                  "writing the checkpoint and the export (--resume continues)")
        return up

    def train(self, stop=None):
        """Train until the configured end or until ``stop`` is set; returns 'finished' or 'stopped'."""
        cfg, state = self.cfg, self.state
        stop = stop or threading.Event()
        n = len(self.dataset)
        per_epoch = datalib.batches_per_epoch(n, cfg.batch_size)
        self.last_checkpoint_time = self.training_started = _clock()  # both count training time
        while not self.finished() and not self.check_time():
            order = datalib.epoch_order(cfg.seed, state.epoch, n)
            self.progress.epoch_start(state.epoch, cfg.epochs, state.batch, per_epoch)
            started, first_batch = time.perf_counter(), state.batch
            while state.batch < per_epoch and not self.finished():
                stopping = stop.is_set()
                if self.cluster:  # every worker stops after the same iteration, or none does
                    stopping = self.cluster.anyone(stopping)
                if stopping:
                    return 'stopped'
                if self.check_time():
                    break
                index = order[state.batch * cfg.batch_size:(state.batch + 1) * cfg.batch_size]
                noise = datalib.iteration_noise(cfg.seed, state.iteration, cfg.batch_size,
                                                cfg.noise_dim, cfg.noise_range, cfg.noise_distribution)
                first, end = self.gan.own_rows()  # this worker's rows of the batch one process would train on
                index, noise = index[first:end], noise[first:end]
                figures = self.gan.step(self.dataset.images[index], self.dataset.labels[index], noise,
                                        state.iteration)
                state.iteration += 1
                state.batch += 1
                state.history.append(dict(figures, iteration=state.iteration))
                self.progress.step(figures)
                if self.tensorboard:
                    self.tensorboard.step(state.iteration, figures)
                if state.iteration % cfg.draw_iter_num == 0:
                    self.write_samples()
                if self.checkpoint_due() and state.batch < per_epoch:  # an epoch's end may save on its own
                    self.save_checkpoint()
            if state.batch < per_epoch:
                break  # --max-iters or --max-minutes ended the run inside this epoch
            self._end_epoch(time.perf_counter() - started, state.batch - first_batch)
        return 'finished'

    def _end_epoch(self, seconds, batches):
        """Summarise the epoch (``batches`` of it ran in ``seconds`` in this process), log, checkpoint."""
        cfg, state = self.cfg, self.state
        recent = state.history[-state.batch:]  # the whole epoch, including before a resume
        summary = {key: float(np.mean([h[key] for h in recent])) for key in ('loss_D', 'loss_G', 'D_x', 'D_G_z')}
        if 'augment_p' in recent[-1]:  # --augment-probability auto: where p stands at the epoch's end
            summary['augment_p'] = recent[-1]['augment_p']
        summary.update(epoch=state.epoch + 1, iteration=state.iteration, seconds=round(seconds, 2),
                       images_per_second=round(batches * cfg.batch_size / max(seconds, 1e-9), 2))
        if cfg.evaluate and self.writes:
            summary['quality'] = self.judge_samples()
        state.epochs_done.append(summary)
        state.epoch += 1
        state.batch = 0
        self.progress.epoch_end(summary)
        if self.tensorboard:
            self.tensorboard.epoch(state.iteration, summary)
        self.write_log()
        if state.epoch % cfg.save_period == 0 or self.checkpoint_due():
            self.save_checkpoint()

    def finish(self):
        """What the end of a run writes: last samples, checkpoint, loss curve, exports."""
        if not self.writes:
            return {}  # worker 0 writes the run's outputs
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

    def close(self):
        """Flush what stays open during a run (the TensorBoard writer)."""
        if self.tensorboard:
            self.tensorboard.close()
            self.tensorboard = None


def _share_multiple(cfg):
    """What each distributed worker's share of a batch must be a multiple of (as a device's share must)."""
    from ..networks import batch_multiple
    cfg = cfg.resolved()
    return math.lcm(batch_multiple(cfg.discriminator_type, cfg.stddev_group), 2 if cfg.mode_seeking else 1)


def run_training(cfg, explicit, resume=False, progress=None, runs_root=RUNS_ROOT, export_root=EXPORT_ROOT,
                 dataset=None):
    """Everything ``train.py`` does: prepare the run, train, and write the results.

    Returns (status, run, outputs): status 'finished' or 'stopped' (Ctrl-C:
    a checkpoint was written and ``--resume`` continues).

    With ``--kvstore dist_sync`` this process is one worker of a job that
    core/launch.py started: worker 0 trains and writes the run; the others
    train their share, log only epoch summaries and write nothing.
    """
    cluster = None
    if cfg.kvstore == 'dist_sync':
        from .distributed import Cluster
        cfg = cfg.validate()
        cluster = Cluster(cfg.kvstore)
        cluster.check_batch(cfg.resolved().batch_size, _share_multiple(cfg))
        if not cluster.writes:
            progress = Progress()
    cfg, run, checkpoint = prepare_run(cfg, explicit, resume, runs_root, export_root,
                                       writes=cluster is None or cluster.writes)
    trainer = Trainer(cfg, run, progress, dataset, cluster)
    try:
        trainer.setup(checkpoint)
        with stop_request_on_sigint() as stop:
            status = trainer.train(stop)
        if status == 'stopped':
            path = trainer.save_checkpoint()
            trainer.write_log()
            return status, run, {'checkpoint': path} if path else {}
        return status, run, trainer.finish()
    finally:
        trainer.close()
