"""The mode-seeking term of MSGAN (Mao et al. 2019) in G's loss, weighted by the config's ``mode_seeking``."""
import mxnet as mx

from .base import Term


def mode_seeking_penalty(images, noise, eps=1e-5):
    """The mode-seeking term for one device's batch, as a (1,) array.

    The batch's two halves are pairs of noise vectors: the term is
    mean|z_a - z_b| / mean|G(z_a) - G(z_b)|, large when different noise gives
    alike images. Added to G's loss, it pushes G to spread its images out. On
    lenet5 the seed's training collapses within 20 iterations to a few dark
    shapes; this term is what kept it drawing digits in the 400-iteration trials
    (docs/recipes.md).
    """
    half = images.shape[0] // 2
    image_gap = mx.nd.mean(mx.nd.abs(images[:half] - images[half:2 * half]))
    noise_gap = mx.nd.mean(mx.nd.abs(noise[:half] - noise[half:2 * half]))
    return noise_gap / (image_gap + eps)


class ModeSeeking(Term):
    """G is penalised when two noise vectors give alike images."""

    @staticmethod
    def wanted(cfg):
        return bool(cfg.mode_seeking)

    def __init__(self, cfg):
        self.weight = cfg.mode_seeking

    def generator_loss(self, judged):
        # One term per device, broadcast to each of its samples: the trainer's
        # step divides the sum by the batch size, so the term counts once, at
        # its weight, beside the mean GAN loss.
        return self.weight * mode_seeking_penalty(judged.images, judged.noise)
