"""What a part of the training objective sees and what it may change: :class:`Term` and :class:`Judged`."""
from collections import namedtuple

# One device's share of an update, as the parts' losses see it: D's logits on the real and on the generated
# images and its second head's outputs on each (None where D has no second head, and ``real`` and
# ``real_head`` None in G's update), G's images, the noise that drew them, and the labels (the classes, or
# InfoGAN's codes; None for an unconditional GAN).
Judged = namedtuple('Judged', 'real fake real_head fake_head images noise labels')


class Term:
    """A part of the training objective, chosen from the config: it adds to D's loss, to G's, or to both.

    The step sums, per device, the losses of every active part in the order
    of the registry (core/training/terms/__init__.py), after the GAN loss
    (core/training/losses.py). A part overrides only what it changes; a
    loss is per sample, (N,), or one number for the device's share, (1,).
    """

    reads_head = False  # whether this part reads D's second head (D then returns (logits, head))
    label_shape = None  # the shape per sample of G's second input, for a part that draws it itself (InfoGAN)

    @staticmethod
    def wanted(cfg):
        """Whether config ``cfg`` turns this part on."""
        raise NotImplementedError

    def discriminator_loss(self, judged):
        """This part's term of D's loss on one device (a :class:`Judged`), or None."""
        return None

    def generator_loss(self, judged):
        """This part's term of G's loss on one device (a :class:`Judged`), or None."""
        return None

    def draw_labels(self, iteration, first, count):
        """G's second input for rows ``first`` to ``first + count`` of iteration ``iteration``."""
        raise NotImplementedError

    def sample_labels(self, count):
        """G's second input for ``count`` samples when a caller of GAN.generate gives none (with ``label_shape``)."""
        raise NotImplementedError
