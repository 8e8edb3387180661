"""TensorBoard event files for a run: losses per iteration, the judge's figures per epoch, sample grids.

Written with tensorboardX: a maintained writer of TensorBoard's event format
that needs neither TensorFlow nor PyTorch (mxboard, MXNet's own, is
unmaintained since 2019 and pins old protobuf versions). ``tensorboard
--logdir runs/`` then shows every run by its folder name.
"""
from ..errors import UserError

# Tags group as TensorBoard's sections: 'train/...' per iteration, 'quality/...' per epoch.
# D(x) and D(G(z)) are D_x and D_G_z: tensorboardX replaces brackets in tags.
STEP_TAGS = {'loss_D': 'train/loss_D', 'loss_G': 'train/loss_G', 'D_x': 'train/D_x', 'D_G_z': 'train/D_G_z',
             'augment_p': 'train/augment_p'}  # the last: --augment-probability auto's p


class TensorBoardLog:
    """Writes one run's events into ``folder``.

    ``resume_at``: the iteration a resumed run continues from; events a killed
    process wrote after that iteration are hidden (purged), so the curves show
    the resumed run's values once.
    """

    def __init__(self, folder, resume_at=None):
        try:
            from tensorboardX import SummaryWriter
        except ImportError:
            raise UserError("--tensorboard needs tensorboardX: pip install tensorboardX") from None
        # TensorBoard hides the events at the purge step and after. Those at ``resume_at`` itself belong to the
        # checkpointed iteration (its losses, its epoch's figures, its grid), which the resumed run does not
        # write again: the purge starts one step later.
        self.writer = SummaryWriter(logdir=folder, purge_step=resume_at + 1 if resume_at else None, flush_secs=30)

    def step(self, iteration, figures):
        for key, tag in STEP_TAGS.items():
            if key in figures:
                self.writer.add_scalar(tag, figures[key], iteration)

    def epoch(self, iteration, summary):
        self.writer.add_scalar('train/images_per_second', summary['images_per_second'], iteration)
        for key, value in summary.get('quality', {}).items():
            if key != 'samples' and isinstance(value, (int, float)):
                self.writer.add_scalar(f'quality/{key}', value, iteration)

    def samples(self, iteration, picture):
        """A sample grid: a (H, W) gray or (H, W, 3) colour uint8 picture."""
        self.writer.add_image('samples', picture, iteration, dataformats='HW' if picture.ndim == 2 else 'HWC')

    def close(self):
        self.writer.close()
