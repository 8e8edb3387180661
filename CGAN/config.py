"""The conditional GAN's settings: the shared ones in core/config.py, with these changes.

Edit CGAN_OVERRIDES (or pass options to CGAN/train.py) to change the CGAN
without touching the unconditional GAN's defaults.
"""
import dataclasses

from core.config import GANConfig

CGAN_OVERRIDES = dict(
    model_name='cgan',             # exports go to model_export/cgan-*, beside the unconditional ones
    discriminator_type='conv28',   # the seed's CGAN networks
    num_classes=10,                # condition on the digit
    image_size=28,                 # MNIST's own size: no resize (the batch size is the recipe's: core/recipes.py)
    epochs=30,
    lr_decay=0.95,                 # learning rate x 0.95 ...
    lr_decay_every=500,            # ... every 500 iterations
)


def cgan_config():
    """The CGAN's default settings."""
    return dataclasses.replace(GANConfig(), **CGAN_OVERRIDES)
