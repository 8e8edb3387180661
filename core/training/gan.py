"""One GAN: its two networks, their optimizers, and one training iteration (a D update, then a G update).

How it learns is the config's recipe (core/recipes.py): the loss, the two
learning rates, spectral normalisation, how a conditional discriminator sees
the class, and the moving average of the generator that samples and exports use.
"""
import os

import mxnet as mx
import numpy as np
from mxnet import autograd, gluon

from .. import data as datalib
from ..errors import UserError, short_reason
from ..data.codes import CODE_LENGTH, draw_codes, iteration_codes
from ..networks import build_networks, discriminator_takes_class, model_for, output_range, power_iteration, takes_codes
from .augment import iteration_shift, shift_limit, translate
from .average import MovingAverage
from .losses import code_loss, get_loss, mode_seeking_penalty


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
    SyncBatchNorm deadlocks on CPU contexts (measured; README, "Several
    devices"), so it is not used.
    """

    MAX_STRIKE = 5  # --schedule weaker: at most this many updates of one network in a row (seed 004's)

    def __init__(self, cfg, contexts, cluster=None):
        self.cfg = cfg = cfg.resolved()
        self.contexts = list(contexts) if isinstance(contexts, (list, tuple)) else [contexts]
        self.ctx = self.contexts[0]  # where sampling and evaluation run
        # With --kvstore dist_sync (distributed.py) this process trains on its worker's share of each batch.
        self.cluster = cluster
        self.share_size = cfg.batch_size // (cluster.num_workers if cluster else 1)
        self.device_batch = self.share_size // len(self.contexts)
        mx.random.seed(cfg.seed)  # weight initialisation follows the run's seed
        self.generator, self.discriminator = build_networks(cfg, self.contexts)
        # static_shape on several devices makes mxnet 1.9.1 drop BatchNorm's
        # running statistics (they stay at their initial values; measured), so
        # it is used on one device only.
        for net in (self.generator, self.discriminator):
            net.hybridize(static_alloc=True, static_shape=len(self.contexts) == 1)
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
        self.objective = get_loss(cfg.loss)
        self.class_loss = gluon.loss.SoftmaxCrossEntropyLoss()
        # AC-GAN: D sees the image alone and also predicts its class.
        self.auxiliary_classifier = cfg.conditional and not discriminator_takes_class(cfg.conditioning)
        # InfoGAN (core/networks/infogan.py): G also takes latent codes; D's second head reads them back.
        self.codes = takes_codes(cfg.discriminator_type)
        self.two_headed = self.auxiliary_classifier or self.codes
        # D's targets: real 1, generated 0; G wants its images called real. Seed 003's label flipping swaps
        # them (the same game with D's logit negated).
        self._real = [mx.nd.ones((self.device_batch, 1), ctx=c) for c in self.contexts]
        self._fake = [mx.nd.zeros((self.device_batch, 1), ctx=c) for c in self.contexts]
        if cfg.flip_labels:
            self._real, self._fake = self._fake, self._real
        self._shift_limit = shift_limit(cfg.translate, cfg.image_size)
        # The data is scaled to G's output range (seed 004's toy points are used as they are).
        self.value_range = output_range(cfg.discriminator_type) or (-1.0, 1.0)
        self._shift = (0, 0)  # this iteration's move of every image D sees (augment.py)
        self._strike = ('', 0)  # --schedule weaker: the network updated last, and how many times in a row

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
    def _judge(self, images, d_conds):
        """D's outputs per device, on the images moved by this iteration's shift: (logits, class logits or None)."""
        outs = [self.discriminator(translate(x, *self._shift, fill=self.value_range[0]), *c)
                for x, c in zip(images, d_conds)]
        return [out if self.two_headed else (out, None) for out in outs]

    def _discriminator_losses(self, outs_real, outs_fake, labels):
        """D's per-device losses: tell real images from generated ones (recorded by the caller)."""
        losses = [self.objective.discriminator(r, f, ones, zeros)
                  for (r, _), (f, _), ones, zeros in zip(outs_real, outs_fake, self._real, self._fake)]
        if self.auxiliary_classifier:
            # AC-GAN: D also learns to name the class of real images. Not of
            # generated ones, as the paper does: in 300-iteration trials that
            # made the digits worse (README, "Training recipes").
            losses = [loss + self.class_loss(rc, y) for loss, (_, rc), y in zip(losses, outs_real, labels)]
        if self.codes:  # InfoGAN: Q learns to read G's codes back (``labels`` holds the codes)
            losses = [loss + code_loss(read, c) for loss, (_, read), c in zip(losses, outs_fake, labels)]
        return losses

    def _generator_losses(self, outs_fake, fakes, noises, labels):
        """G's per-device losses: make D call its images real (recorded by the caller)."""
        losses = [self.objective.generator(out, ones) for (out, _), ones in zip(outs_fake, self._real)]
        if self.auxiliary_classifier:  # AC-GAN: G wants its images read as the class it was asked for
            losses = [loss + self.class_loss(classes, y) for loss, (_, classes), y in zip(losses, outs_fake, labels)]
        if self.codes:  # InfoGAN: G draws its codes readably
            losses = [loss + code_loss(read, c) for loss, (_, read), c in zip(losses, outs_fake, labels)]
        if self.cfg.mode_seeking:
            # One term per device, broadcast to each of its samples: the
            # trainer's step divides the sum by the batch size, so the term
            # counts once, at its weight, beside the mean GAN loss.
            losses = [loss + self.cfg.mode_seeking * mode_seeking_penalty(f, z)
                      for loss, f, z in zip(losses, fakes, noises)]
        return losses

    def _step_discriminator(self, losses):
        autograd.backward(losses)
        if self.cluster:
            self.cluster.sum_gradients(self.discriminator)
        self.trainer_d.step(self.cfg.batch_size)
        if self.cfg.spectral_norm:
            power_iteration(self.discriminator)  # u follows the weights it normalises

    def _step_generator(self, losses, iteration):
        autograd.backward(losses)
        if self.cluster:
            self.cluster.sum_gradients(self.generator)
        self.trainer_g.step(self.cfg.batch_size)
        if self.average:
            self.average.update(iteration)

    def update_discriminator(self, reals, fakes, d_conds, labels):
        """(1) Update D: tell real images from generated ones. Returns per-device losses and D's logits.

        Each argument holds one entry per device. All devices' work is queued
        before any result is read, so the devices run at the same time.
        """
        with autograd.record():
            outs_real = self._judge(reals, d_conds)
            # detach: D's update needs G's images, not G's gradients.
            outs_fake = self._judge([f.detach() for f in fakes], d_conds)
            losses = self._discriminator_losses(outs_real, outs_fake, labels)
        self._step_discriminator(losses)
        return losses, [r for r, _ in outs_real], [f for f, _ in outs_fake]

    def update_generator(self, fakes, noises, d_conds, labels, iteration):
        """(2) Update G: make D call its images real. Returns per-device losses.

        ``fakes`` were recorded once for both updates: G has not changed since,
        so they are the images a second forward pass would give (the seed's
        code ran G twice). D has changed, so it is run again.
        """
        with autograd.record():
            losses = self._generator_losses(self._judge(fakes, d_conds), fakes, noises, labels)
        self._step_generator(losses, iteration)
        return losses

    def update_the_weaker(self, reals, fakes, noises, d_conds, labels, iteration):
        """Seed 004's schedule: update only the network whose loss is higher. Returns as the two updates do.

        One forward pass of D on the real and on the generated images gives
        both losses (D's as the mean of its real and generated terms, as seed
        004 compares them); the network doing worse takes the step. After
        MAX_STRIKE updates of one network in a row the other gets one, as seed
        004's trainer does, so neither starves.
        """
        with autograd.record():
            outs_real = self._judge(reals, d_conds)
            outs_fake = self._judge(fakes, d_conds)  # not detached: G's update goes through them
            losses_d = self._discriminator_losses(outs_real, outs_fake, labels)
            losses_g = self._generator_losses(outs_fake, fakes, noises, labels)
        loss_d = sum(float(loss.sum().asscalar()) for loss in losses_d) / 2
        loss_g = sum(float(loss.sum().asscalar()) for loss in losses_g)
        train_d = loss_d > loss_g
        if self._strike[0] == ('D' if train_d else 'G') and self._strike[1] >= self.MAX_STRIKE:
            train_d = not train_d
        trained = 'D' if train_d else 'G'
        self._strike = (trained, self._strike[1] + 1 if self._strike[0] == trained else 1)
        if train_d:
            self._step_discriminator(losses_d)
        else:
            self._step_generator(losses_g, iteration)
        return losses_d, losses_g, [r for r, _ in outs_real], [f for f, _ in outs_fake]

    def own_rows(self):
        """(first, end): the rows of each whole batch that this process trains on (all of them unless distributed)."""
        return self.cluster.share(self.cfg.batch_size) if self.cluster else (0, self.cfg.batch_size)

    def _generate_recorded(self, noises, g_conds):
        """G's images per device, recorded in training mode (BatchNorm on batch statistics) for G's update."""
        with autograd.record():
            return [self.generator(z, *c) for z, c in zip(noises, g_conds)]

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

    def step(self, images, labels, noise, iteration=0):
        """One D update, then ``cfg.g_steps`` G updates; returns the iteration's figures as floats.

        ``images``, ``labels`` and ``noise`` are this process's share of the
        batch (all of it, unless distributed). ``iteration`` counts the
        iterations done before this one (the moving average's warm-up reads it).
        G's updates after the first draw fresh noise (:meth:`extra_noise`) and
        reuse the batch's classes. The figures are those of D's update and
        the first G update, which saw the same D.
        """
        reals = self._split(datalib.to_model_range(images, self.value_range))
        self._shift = iteration_shift(self.cfg.seed, iteration, self._shift_limit)
        noises = self._split(noise)
        if self.cfg.conditional or self.codes:
            if self.codes:  # the codes play the classes' part: G's second input, and what the extra loss reads
                first = self.own_rows()[0]
                labels = iteration_codes(self.cfg.seed, iteration, self.cfg.batch_size)[first:first + len(noise)]
            classes = self._split(labels.astype(np.float32))
            g_conds = [(c,) for c in classes]
        else:
            classes, g_conds = [None] * len(self.contexts), [()] * len(self.contexts)
        # D and the class loss get their own copy of the classes: an array that
        # G's recorded graph holds and that D's graphs use again fails in
        # backward in hybridized mxnet 1.9.1 ("The any container is empty
        # requested=...AGInfo").
        if self.cfg.conditional or self.codes:
            classes = [c.copy() for c in classes]
        d_conds = [()] * len(self.contexts) if self.two_headed else \
            [(c,) for c in classes] if self.cfg.conditional else g_conds
        # G runs once per G update, recorded: D's update reads the first images,
        # and the first G update backpropagates through them.
        self._set_momentum(iteration)
        fakes = self._generate_recorded(noises, g_conds)
        if self.cfg.schedule == 'weaker':
            losses_d, losses_g, outs_real, outs_fake = self.update_the_weaker(reals, fakes, noises, d_conds,
                                                                              classes, iteration)
        else:
            losses_d, outs_real, outs_fake = self.update_discriminator(reals, fakes, d_conds, classes)
            losses_g = self.update_generator(fakes, noises, d_conds, classes, iteration)
            for more in map(self._split, self.extra_noise(iteration)):
                self.update_generator(self._generate_recorded(more, g_conds), more, d_conds, classes, iteration)
        # Sums per device, added on the host: the figures are means over this process's share. D(x) and
        # D(G(z)) are D's probabilities of "real" (with flipped labels, its logit says "generated").
        sign = -1 if self.cfg.flip_labels else 1
        sums = sum(mx.nd.stack(ld.sum(), lg.sum(), mx.nd.sigmoid(sign * r).sum(),
                               mx.nd.sigmoid(sign * f).sum()).asnumpy()
                   for ld, lg, r, f in zip(losses_d, losses_g, outs_real, outs_fake))
        return dict(zip(('loss_D', 'loss_G', 'D_x', 'D_G_z'), map(float, sums / self.share_size)))

    # --- Sampling ------------------------------------------------------------------------
    def materialize(self):
        """Run every network once on zeros so that every parameter exists (before a checkpoint loads)."""
        cfg = self.cfg
        labels = np.zeros(self.device_batch, np.float32) if cfg.conditional else None
        if self.codes:
            labels = np.zeros((self.device_batch, CODE_LENGTH), np.float32)
        cond = () if labels is None else (mx.nd.array(labels, ctx=self.ctx),)
        self.generator(mx.nd.zeros((self.device_batch, cfg.noise_dim), ctx=self.ctx), *cond).wait_to_read()
        if self.average:
            self.sampler(mx.nd.zeros((self.device_batch, cfg.noise_dim), ctx=self.ctx), *cond).wait_to_read()
            self.average.copy_source()
        images = self.generate(np.zeros((self.device_batch, cfg.noise_dim), np.float32), labels)
        d_cond = () if self.two_headed else cond
        self.discriminator(mx.nd.array(images, ctx=self.ctx), *d_cond)
        mx.nd.waitall()
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
        if self.codes and labels is None:
            labels = draw_codes(np.random.default_rng([self.cfg.seed, 3]), len(noise))
        batch = self.device_batch
        out = []
        for start in range(0, len(noise), batch):
            chunk = noise[start:start + batch]
            pad = batch - len(chunk)
            z = np.concatenate([chunk, np.zeros((pad, chunk.shape[1]), np.float32)])
            args = [mx.nd.array(z, ctx=self.ctx)]
            if self.cfg.conditional or self.codes:
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

    def load(self, folder):
        try:
            for path, net, contexts in self._networks(folder):
                net.load_parameters(path, ctx=contexts)
            self.trainer_g.load_states(os.path.join(folder, 'generator.states'))
            self.trainer_d.load_states(os.path.join(folder, 'discriminator.states'))
        except Exception as e:
            raise UserError(f"cannot load the checkpoint {folder}: {short_reason(e)}") from None
