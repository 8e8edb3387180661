"""Which network updates when, within one iteration: the config's ``schedule``.

- ``alternate``: one D update, then ``g_steps`` G updates, the later ones on
  fresh noise (Goodfellow et al. 2014; the seed's with ``g_steps`` 1).
- ``weaker``: seed 004's: only the network whose loss is higher updates.

A schedule's ``run(gan, batch, iteration)`` makes the updates through the
GAN's (core/training/gan.py) and returns (D's losses, G's losses, judged),
each per device: the figures the iteration reports. A new schedule is one
class here and one line in ``SCHEDULES``.
"""
from mxnet import autograd


class Alternate:
    """D's update, then G's update(s); the figures are D's update's and the first G update's, which saw the same D."""

    def __init__(self, cfg):
        pass

    def run(self, gan, batch, iteration):
        # G runs once per G update, recorded: D's update reads the first images,
        # and the first G update backpropagates through them.
        fakes = gan.generate_recorded(batch)
        # (1) Update D: tell real images from generated ones.
        losses_d, judged = gan.update_discriminator(batch, fakes)
        # (2) Update G: make D call its images real. The images were recorded once for both updates: G has not
        # changed since, so they are the images a second forward pass would give (the seed ran G twice).
        losses_g = gan.update_generator(batch, fakes, iteration)
        # --g-steps: more G updates, each on fresh noise, with the batch's classes.
        for more in gan.extra_batches(batch, iteration):
            gan.update_generator(more, gan.generate_recorded(more), iteration)
        return losses_d, losses_g, judged


class Weaker:
    """Seed 004's schedule: update only the network whose loss is higher.

    One forward pass of D on the real and on the generated images gives both
    losses (D's as the mean of its real and generated terms, as seed 004
    compares them); the network doing worse takes the step. After MAX_STRIKE
    updates of one network in a row the other gets one, as seed 004's trainer
    does, so neither starves.
    """

    MAX_STRIKE = 5  # at most this many updates of one network in a row (seed 004's)

    def __init__(self, cfg):
        self.strike = ('', 0)  # the network updated last, and how many times in a row

    def run(self, gan, batch, iteration):
        fakes = gan.generate_recorded(batch)
        with autograd.record():
            judged = gan.judge(batch, fakes)  # not detached: G's update goes through them
            losses_d = gan.discriminator_losses(judged)
            losses_g = gan.generator_losses(judged)
        loss_d = sum(float(loss.sum().asscalar()) for loss in losses_d) / 2
        loss_g = sum(float(loss.sum().asscalar()) for loss in losses_g)
        if self.choose(loss_d, loss_g) == 'D':
            gan.step_discriminator(losses_d)
        else:
            gan.step_generator(losses_g, iteration)
        return losses_d, losses_g, judged

    def choose(self, loss_d, loss_g):
        """'D' or 'G': the network to update, given D's and G's losses (and the updates before)."""
        train_d = loss_d > loss_g
        if self.strike[0] == ('D' if train_d else 'G') and self.strike[1] >= self.MAX_STRIKE:
            train_d = not train_d
        trained = 'D' if train_d else 'G'
        self.strike = (trained, self.strike[1] + 1 if self.strike[0] == trained else 1)
        return trained


SCHEDULES = {'alternate': Alternate, 'weaker': Weaker}


def get_schedule(cfg):
    """The schedule config ``cfg`` names, ready to run."""
    return SCHEDULES[cfg.schedule](cfg)
