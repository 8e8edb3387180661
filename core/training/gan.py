"""One GAN: its two networks, their optimizers, and one training iteration that composes the active parts.

How it learns is the config's recipe (core/recipes.py): the loss, the two
learning rates, spectral normalisation, how a conditional discriminator sees
the class, and the moving average of the generator that samples and exports use.
The features that change the losses or the step are parts, each in a file of
its own and chosen from the config: the GAN loss (losses.py), extra terms
(terms/: the auxiliary classifier, InfoGAN's codes, mode seeking), what D's
inputs go through (augment.py), and which network updates when (schedules.py).
"""
import json
import os
from collections import namedtuple

import mxnet as mx
import numpy as np
from mxnet import autograd, gluon

from .. import data as datalib
from ..errors import UserError, short_reason
from ..fileio import write_json
from ..networks import build_networks, discriminator_takes_class, model_for, output_range, power_iteration
from .adam import FusedAdam, fuse
from .augment import AugmentPipe
from .average import MovingAverage
from .finetune import freeze_discriminator_layers
from .losses import AdversarialLoss
from .precision import use_precision
from .schedules import get_schedule
from .terms import Judged, build_terms
from .twin import weight_sharing_twin

# One iteration's share of this process, one entry per device in each field: the real images in the model's
# range, the noise, the labels (the classes, or InfoGAN's codes; None without), and G's and D's extra inputs.
Batch = namedtuple('Batch', 'reals noises labels g_inputs d_inputs')


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

    Conditioning is a parameter: with ``cfg.num_classes > 0`` the generator
    takes the class as a second input and the discriminator sees it as
    ``cfg.conditioning`` says; everything else stays the same.

    With several contexts each batch is split across them (data parallel):
    every device computes the gradients of its share, a kvstore sums them and
    one optimizer step applies them, as one device would with the whole batch.
    The one difference: BatchNorm normalises each share by its own statistics
    (as mxnet's and gluon-cv's multi-GPU training does): mxnet 1.9.1's
    SyncBatchNorm deadlocks on CPU contexts (measured; docs/distributed.md, "Several
    devices"), so it is not used.
    """

    def __init__(self, cfg, contexts, cluster=None):
        self.cfg = cfg = cfg.resolved()
        self.contexts = list(contexts) if isinstance(contexts, (list, tuple)) else [contexts]
        self.ctx = self.contexts[0]  # where sampling and evaluation run
        # With --kvstore dist_sync (distributed.py) this process trains on its worker's share of each batch.
        self.cluster = cluster
        self.share_size = cfg.batch_size // (cluster.num_workers if cluster else 1)
        self.device_batch = self.share_size // len(self.contexts)
        use_precision(cfg.precision, self.contexts)  # --precision bfloat16: before any graph is built
        mx.random.seed(cfg.seed)  # weight initialisation follows the run's seed
        self.generator, self.discriminator = build_networks(cfg, self.contexts)
        if cfg.freeze_d:  # before the first forward pass and the trainer: the frozen layers get no gradient
            freeze_discriminator_layers(self.discriminator, cfg.freeze_d)
        # static_shape on several devices makes mxnet 1.9.1 drop BatchNorm's
        # running statistics (they stay at their initial values; measured), so
        # it is used on one device only.
        self.static_shape = len(self.contexts) == 1
        for net in (self.generator, self.discriminator):
            net.hybridize(static_alloc=True, static_shape=self.static_shape)
        # D as G's updates run it: D's weights without their gradients (twin.py), made once D has its shapes.
        self.discriminator_for_g = self.discriminator
        self.average = None
        self.sampler = self.generator  # the network that samples, grids and exports use
        if cfg.ema_decay > 0:
            self.sampler = model_for(cfg, 'generator')
            # Zeros, then a copy of the live weights (materialize): drawing random
            # weights here would shift the discriminator's random initialisation.
            self.sampler.initialize(mx.init.Zero(), ctx=self.ctx)
            self.sampler.hybridize(static_alloc=True, static_shape=True)
            self.average = MovingAverage(self.generator, self.sampler, cfg.ema_decay, self.ctx)
        self.trainer_g = self._trainer(self.generator, cfg.g_learning_rate)
        self.trainer_d = self._trainer(self.discriminator, cfg.d_learning_rate)
        # The parts, each chosen from the config: the losses are the GAN loss plus the active terms.
        self.adversarial = AdversarialLoss(cfg, self.contexts, self.device_batch)
        self.parts = [self.adversarial] + build_terms(cfg)
        # The data is scaled to G's output range (seed 004's toy points are used as they are).
        self.value_range = output_range(cfg.discriminator_type) or (-1.0, 1.0)
        self.augment = AugmentPipe(cfg, self.value_range)
        self.schedule = get_schedule(cfg)
        # What the networks take beside the noise and the images: G the class, or labels a part draws (InfoGAN's
        # codes); D the class, unless it names it with a second head (AC-GAN). A part that reads that head says so.
        self.label_maker = next((part for part in self.parts if part.label_shape), None)
        self.takes_labels = cfg.conditional or self.label_maker is not None
        self.discriminator_takes_class = cfg.conditional and discriminator_takes_class(cfg.conditioning)
        self.two_headed = any(part.reads_head for part in self.parts)

    def _trainer(self, net, learning_rate):
        cfg = self.cfg
        options = {'learning_rate': learning_rate, 'wd': cfg.weight_decay}
        if cfg.optimizer == 'sgd':
            options['momentum'] = self.momentum_at(0)
        else:
            options.update(beta1=cfg.beta1, beta2=cfg.beta2)
        if cfg.lr_decay_every and cfg.lr_decay != 1:
            options['lr_scheduler'] = mx.lr_scheduler.FactorScheduler(
                step=cfg.lr_decay_every, factor=cfg.lr_decay, base_lr=learning_rate, stop_factor_lr=cfg.lr_min)
        # One device needs no kvstore; several sum their gradients in one.
        kvstore = 'device' if len(self.contexts) > 1 else None
        if cfg.optimizer == 'adam':  # the large tensors in one fused pass each (adam.py): the same maths
            return gluon.Trainer(net.collect_params(), FusedAdam(**options), kvstore=kvstore)
        return gluon.Trainer(net.collect_params(), cfg.optimizer, options, kvstore=kvstore)

    def momentum_at(self, iteration):
        """SGD's momentum at ``iteration``: from START rising linearly to END over --momentum-iterations.

        Seed 001 follows Goodfellow et al.'s pylearn2 settings: 0.5 rising to 0.7.
        """
        start, end = self.cfg.momentum
        span = self.cfg.momentum_iterations
        if not span:
            return start
        return start + (end - start) * min(1.0, iteration / span)

    def _set_momentum(self, iteration):
        if self.cfg.optimizer == 'sgd' and self.cfg.momentum_iterations:
            for trainer in (self.trainer_d, self.trainer_g):
                trainer._optimizer.momentum = self.momentum_at(iteration)

    def _split(self, array):
        """A host array as one NDArray per context, split along the batch."""
        return gluon.utils.split_and_load(array, self.contexts, even_split=True)

    # --- One iteration ----------------------------------------------------------------
    def step(self, images, labels, noise, iteration=0):
        """One iteration of the config's schedule; returns its figures as floats.

        With the default schedule (schedules.py) that is one D update, then
        ``cfg.g_steps`` G updates, each summing the losses of the active parts.
        ``images``, ``labels`` and ``noise`` are this process's share of the
        batch (all of it, unless distributed). ``iteration`` counts the
        iterations done before this one (the moving average's warm-up, the
        augmentation and InfoGAN's codes read it). With ``--augment-probability
        auto`` the figures include ``augment_p``, the probability after this
        iteration's adjustment (what a checkpoint now saves).
        """
        batch = self._batch(images, labels, noise, iteration)
        self._set_momentum(iteration)
        self.augment.start_iteration(iteration)
        # The updates in the schedule's order: by default (1) D's update, then (2) G's update(s), each through
        # update_discriminator and update_generator below.
        losses_d, losses_g, judged = self.schedule.run(self, batch, iteration)
        figures = self._figures(losses_d, losses_g, judged)
        if self.augment.adaptive:  # --augment-probability auto: p follows how sure D is of the real images
            signs = sum(float(self.adversarial.real_signs(j.real).sum().asscalar()) for j in judged)
            self.augment.observe(iteration, signs, self.share_size)
            figures['augment_p'] = self.augment.probability
        return figures

    def _batch(self, images, labels, noise, iteration):
        """This iteration's inputs as a :data:`Batch`, split over the devices."""
        devices = len(self.contexts)
        reals, noises = self._split(datalib.to_model_range(images, self.value_range)), self._split(noise)
        if not self.takes_labels:
            return Batch(reals, noises, [None] * devices, [()] * devices, [()] * devices)
        if self.label_maker:  # a part draws G's second input itself (InfoGAN's codes play the classes' part)
            labels = self.label_maker.draw_labels(iteration, self.own_rows()[0], len(noise))
        g_labels = self._split(labels.astype(np.float32))
        # D and the losses get their own copy of the labels: an array that G's
        # recorded graph holds and that D's graphs use again fails in backward
        # in hybridized mxnet 1.9.1 ("The any container is empty requested=...AGInfo").
        labels = [c.copy() for c in g_labels]
        d_inputs = [(c,) for c in labels] if self.discriminator_takes_class else [()] * devices
        return Batch(reals, noises, labels, [(c,) for c in g_labels], d_inputs)

    def extra_batches(self, batch, iteration):
        """``batch`` with the noise of each G update after the first (--g-steps; see :meth:`extra_noise`)."""
        return [batch._replace(noises=self._split(noise)) for noise in self.extra_noise(iteration)]

    def generate_recorded(self, batch):
        """G's images per device for ``batch``, recorded in training mode (BatchNorm on batch statistics)."""
        with autograd.record():
            return [self.generator(z, *c) for z, c in zip(batch.noises, batch.g_inputs)]

    def _discriminate(self, images, d_inputs, discriminator):
        """D's outputs per device on the images as the augmentations change them: (logits, head or None)."""
        first = self.own_rows()[0]  # the augmentations draw per row of the whole batch
        outs = [discriminator(self.augment(x, first + i * self.device_batch), *c)
                for i, (x, c) in enumerate(zip(images, d_inputs))]
        return [out if self.two_headed else (out, None) for out in outs]

    def judge(self, batch, fakes, reals=True, discriminator=None):
        """D run on the batch's real images (unless not ``reals``) and on ``fakes``: one :class:`Judged` per device.

        Recorded by the caller. Real images first, as D's random layers (dropout) draw in that order.
        ``discriminator``: D itself unless given (G's updates pass its twin without weight gradients).
        """
        if discriminator is None:
            discriminator = self.discriminator
        real = self._discriminate(batch.reals, batch.d_inputs, discriminator) if reals else [(None, None)] * len(fakes)
        fake = self._discriminate(fakes, batch.d_inputs, discriminator)
        return [Judged(r, f, r_head, f_head, x, z, y)
                for (r, r_head), (f, f_head), x, z, y in zip(real, fake, fakes, batch.noises, batch.labels)]

    def discriminator_losses(self, judged):
        """D's loss per device: the sum of the active parts' terms (recorded by the caller)."""
        return [_total(part.discriminator_loss(view) for part in self.parts) for view in judged]

    def generator_losses(self, judged):
        """G's loss per device: the sum of the active parts' terms (recorded by the caller)."""
        return [_total(part.generator_loss(view) for part in self.parts) for view in judged]

    def step_discriminator(self, losses):
        autograd.backward(losses)
        if self.cluster:
            self.cluster.sum_gradients(self.discriminator)
        self.trainer_d.step(self.cfg.batch_size)
        if self.cfg.spectral_norm:
            power_iteration(self.discriminator)  # u follows the weights it normalises

    def step_generator(self, losses, iteration):
        autograd.backward(losses)
        if self.cluster:
            self.cluster.sum_gradients(self.generator)
        self.trainer_g.step(self.cfg.batch_size)
        if self.average:
            self.average.update(iteration)

    def update_discriminator(self, batch, fakes):
        """(1) Update D: tell real images from generated ones. Returns per-device losses and the judged views.

        All devices' work is queued before any result is read, so the devices run at the same time.
        """
        with autograd.record():
            # detach: D's update needs G's images, not G's gradients.
            judged = self.judge(batch, [f.detach() for f in fakes])
            losses = self.discriminator_losses(judged)
        self.step_discriminator(losses)
        return losses, judged

    def update_generator(self, batch, fakes, iteration):
        """(2) Update G: make D call its images ``fakes`` real. Returns per-device losses.

        D has changed since ``fakes`` were drawn, so it is run again, as its twin that computes no weight
        gradients: G's update needs D's gradient with respect to the images only.
        """
        with autograd.record():
            judged = self.judge(batch, fakes, reals=False, discriminator=self.discriminator_for_g)
            losses = self.generator_losses(judged)
        self.step_generator(losses, iteration)
        return losses

    def _figures(self, losses_d, losses_g, judged):
        """Means over this process's share: the losses, and D(x) and D(G(z)), D's probabilities of "real"."""
        # Sums per device, added on the host.
        realness = self.adversarial.realness
        sums = sum(mx.nd.stack(ld.sum(), lg.sum(), realness(j.real).sum(), realness(j.fake).sum()).asnumpy()
                   for ld, lg, j in zip(losses_d, losses_g, judged))
        return dict(zip(('loss_D', 'loss_G', 'D_x', 'D_G_z'), map(float, sums / self.share_size)))

    def own_rows(self):
        """(first, end): the rows of each whole batch that this process trains on (all of them unless distributed)."""
        return self.cluster.share(self.cfg.batch_size) if self.cluster else (0, self.cfg.batch_size)

    def extra_noise(self, iteration):
        """This process's share of the noise of iteration ``iteration``'s G updates after the first (--g-steps).

        Drawn from the run's seed and the iteration, as the loop draws the
        first, so a resumed run and every worker of a cluster see what one
        uninterrupted process would.
        """
        cfg = self.cfg
        first, end = self.own_rows()
        return [datalib.iteration_noise(cfg.seed, iteration, cfg.batch_size, cfg.noise_dim, cfg.noise_range,
                                        cfg.noise_distribution, step)[first:end] for step in range(1, cfg.g_steps)]

    # --- Sampling ------------------------------------------------------------------------
    def materialize(self):
        """Run every network once on zeros so that every parameter exists (before a checkpoint loads)."""
        cfg = self.cfg
        labels = np.zeros(self.device_batch, np.float32) if cfg.conditional else None
        if self.label_maker:
            labels = np.zeros((self.device_batch,) + self.label_maker.label_shape, np.float32)
        cond = () if labels is None else (mx.nd.array(labels, ctx=self.ctx),)
        self.generator(mx.nd.zeros((self.device_batch, cfg.noise_dim), ctx=self.ctx), *cond).wait_to_read()
        if self.average:
            self.sampler(mx.nd.zeros((self.device_batch, cfg.noise_dim), ctx=self.ctx), *cond).wait_to_read()
            self.average.copy_source()
        images = self.generate(np.zeros((self.device_batch, cfg.noise_dim), np.float32), labels)
        d_cond = cond if self.discriminator_takes_class else ()
        self.discriminator(mx.nd.array(images, ctx=self.ctx), *d_cond)
        mx.nd.waitall()
        if self.discriminator_for_g is self.discriminator:
            self.discriminator_for_g = weight_sharing_twin(self.discriminator, model_for(cfg, 'discriminator'))
            self.discriminator_for_g.hybridize(static_alloc=True, static_shape=self.static_shape)
        if cfg.spectral_norm:
            power_iteration(self.discriminator, steps=10)  # from a random u to a good estimate before training

    def start_workers_alike(self):
        """Distributed: every worker takes worker 0's weights (after a checkpoint loads, if resuming).

        They are equal already when every worker starts from the same seed or
        checkpoint: this makes sure. The moving average and the optimizer
        states are not sent: they come from that same seed or checkpoint.
        """
        if self.cluster:
            self.cluster.register(self.generator, self.discriminator)

    def generate(self, noise, labels=None):
        """Images (N, C, H, W) in G's output range from the sampling generator in inference mode, on the first context.

        The sampling generator is the moving average when the recipe keeps one.
        Batches have one device's training size, padded at the end: the graph
        keeps its static shape. ``labels``: the classes of a conditional GAN;
        for InfoGAN the (N, 12) codes (random ones, the same each call, when None).
        """
        if self.label_maker and labels is None:
            labels = self.label_maker.sample_labels(len(noise))
        batch = self.device_batch
        out = []
        for start in range(0, len(noise), batch):
            chunk = noise[start:start + batch]
            pad = batch - len(chunk)
            z = np.concatenate([chunk, np.zeros((pad, chunk.shape[1]), np.float32)])
            args = [mx.nd.array(z, ctx=self.ctx)]
            if self.takes_labels:
                chunk_labels = labels[start:start + batch]
                padding = np.zeros((pad,) + chunk_labels.shape[1:], np.float32)
                args.append(mx.nd.array(np.concatenate([chunk_labels, padding]), ctx=self.ctx))
            out.append(self.sampler(*args).asnumpy()[:len(chunk)])
        return np.concatenate(out)

    # --- Checkpoints ---------------------------------------------------------------
    def _networks(self, folder):
        """(file, network, contexts) of every network a checkpoint holds."""
        found = [('generator', self.generator, self.contexts), ('discriminator', self.discriminator, self.contexts)]
        if self.average:
            found.append(('generator_average', self.sampler, [self.ctx]))
        return [(os.path.join(folder, f'{name}.params'), net, contexts) for name, net, contexts in found]

    def save(self, folder):
        mx.nd.waitall()  # static_alloc graphs may still be writing BatchNorm statistics
        for path, net, _ in self._networks(folder):
            net.save_parameters(path)
        self.trainer_g.save_states(os.path.join(folder, 'generator.states'))
        self.trainer_d.save_states(os.path.join(folder, 'discriminator.states'))
        if self.augment.adaptive:
            write_json(os.path.join(folder, 'augment.json'), self.augment.adaptive.state())

    def load(self, folder):
        try:
            for path, net, contexts in self._networks(folder):
                net.load_parameters(path, ctx=contexts)
            self.trainer_g.load_states(os.path.join(folder, 'generator.states'))
            self.trainer_d.load_states(os.path.join(folder, 'discriminator.states'))
            for trainer in (self.trainer_g, self.trainer_d):
                fuse(trainer)  # the states hold the optimizer they were saved with
            if self.augment.adaptive:  # where --augment-probability auto had brought p
                with open(os.path.join(folder, 'augment.json')) as f:
                    self.augment.adaptive.restore(json.load(f))
        except Exception as e:
            raise UserError(f"cannot load the checkpoint {folder}: {short_reason(e)}") from None


def _total(terms):
    """The sum of the terms that are not None, added left to right."""
    total = None
    for term in terms:
        if term is not None:
            total = term if total is None else total + term
    return total
