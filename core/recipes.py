"""Training recipes: named sets of the settings that decide how a GAN learns, not what the networks are.

A recipe fills every recipe setting that the config leaves at ``None``; a value
set in core/config.py or on the command line wins over the recipe. The
resolved values are what a run saves in its config.json.

- ``seed``: the seed's training exactly (non-saturating loss, Adam 2e-4 with
  beta1 0.5 for both networks, no moving average, no spectral norm, the class
  as input planes, batches of 64, or 128 for the CGAN's networks).
- ``tuned``: the recipe measured best per CPU minute on this project's
  machines: batches of 16 for the CGAN's networks, 8 for lenet5 (64 for
  deep_convolution at any width), learning rate 5e-4 for both networks (8e-4 for
  lenet5's generator), a moving average of the generator for sampling and
  export, the mode-seeking term in G's loss, and for lenet5 the translation
  of D's inputs and two G updates per D update (docs/recipes.md; the
  trials are in bench/trials.jsonl).
"""


class PerArchitecture(dict):
    """A recipe value that depends on the network pair: ``PerArchitecture(64, conv28=128)``."""

    def __init__(self, default, **by_architecture):
        super().__init__(by_architecture)
        self.default = default

    def __call__(self, cfg):
        return self.get(cfg.discriminator_type, self.default)

    def __repr__(self):
        return ', '.join([f'{value} for {name}' for name, value in self.items()] + [f'else {self.default}'])


def recipe_value(value, cfg):
    """A recipe's setting for config ``cfg`` (a :class:`PerArchitecture` picks by ``cfg``'s network pair)."""
    return value(cfg) if callable(value) else value


RECIPES = {
    'seed': dict(
        loss='bce',                 # sigmoid cross-entropy on logits; G maximises log D(G(z))
        g_learning_rate=2e-4,
        d_learning_rate=2e-4,
        beta1=0.5,
        beta2=0.999,
        ema_decay=0.0,              # sample from the live generator
        spectral_norm=False,
        conditioning='concat',      # the class as constant planes joined to D's input
        mode_seeking=0.0,
        g_steps=1,                  # one G update per D update
        translate=0.0,              # D sees the images as they are
        stddev_group=PerArchitecture(0, lenet5=32),  # lenet5's D compares one batch of 32 (networks/lenet5.py)
        batch_size=PerArchitecture(64, conv28=128),  # the seed's GAN used 64; its CGAN (conv28 networks) 128
    ),
    'tuned': dict(
        loss='bce',
        # 2.5x the seed's for both networks: faster at equal stability (trials). lenet5's G at 8e-4 with the
        # mode-seeking weight 1 (below): whole epochs on seeds 0, 1, 2 gave FID 98.4, 82.9, 94.3 against
        # 97.3, 82.3, 145.3 with G at 5e-4 and weight 0.3 (docs/recipes.md, "How the tuned recipe was chosen"). D at
        # 3e-4 won a whole epoch on seed 0 (FID 91.0 against 97.3) and lost one on seed 1 (95.6 against 82.3).
        g_learning_rate=PerArchitecture(5e-4, lenet5=8e-4),
        d_learning_rate=5e-4,
        beta1=0.5,
        beta2=0.999,
        ema_decay=0.999,            # sample and export the moving average of G's weights
        spectral_norm=False,        # no gain in the trials, and 40% slower iterations on lenet5
        conditioning='concat',      # projection and AC-GAN both drew worse digits in the trials
        # What keeps lenet5 from collapsing in its first iterations. At 0.3 (the best after 900 iterations in
        # the trials) one seed in three dropped classes by the end of its epoch (FID 145.3, evenness 0.877);
        # at 1 all three kept every class (evenness 0.95 to 0.96), and G's faster rate (above) pays with it.
        # With two G updates (below) the weight 2 pays more: one epoch on seeds 0, 1, 2 gave FID 52.2, 76.7,
        # 50.3 against 76.6, 69.9, 69.8 at 1 (docs/recipes.md, "How the tuned recipe was chosen").
        mode_seeking=PerArchitecture(1.0, lenet5=2.0),
        # lenet5's D runs away from its G late in the epoch and after it (seed 2: FID 94.3 after one epoch,
        # 116.2 after 1.64). Two G updates per D update hold it: one epoch on seeds 0, 1, 2 gave FID
        # 76.6, 69.9, 69.8 against 98.4, 82.9, 94.3, in about 1.6x the time per epoch; at equal time (seed 2,
        # about 815 s) 69.8 against 116.2 (docs/recipes.md, "How the tuned recipe was chosen").
        g_steps=PerArchitecture(1, lenet5=2),
        # lenet5's D cannot see the last 4 rows and columns of its 64x64 input (training/augment.py): moving the
        # images it sees by up to 1/8 of their size ends the white frames (FID 245 after 900 iterations, against
        # 350 after 800 without; 1/4 of the size: 240).
        translate=PerArchitecture(0.0, lenet5=0.125),
        stddev_group=PerArchitecture(0, lenet5=8),  # the whole of each batch of 8 (below)
        # Smaller batches: more updates per epoch for fewer images per second, far better digits per
        # minute. The CGAN's networks: 16 (8x the updates, about 25% fewer images/s; trials). lenet5: 8, its
        # D comparing groups of 8. FID of 1,000 samples, seeds 0, 1, 2: after 19,200 images 186, 157, 183
        # against 246, 197, 247 at 16; after about 9 minutes 186, 157, 183 against 200, 182, 188 at 16
        # (28,800 images), and 16 had beaten 32 on all three seeds. Batch 4 fell back (one epoch, seed 0: FID
        # 137.5 against 97.3; its D won). deep_convolution keeps the seed's 64 at every --width. At 0.25, the
        # width for a CPU (docs/networks.md), that aims at 100 images/s of 64x64 colour pictures on 2 cores: on a
        # shared machine (load 2 to 8, so a floor) 28 to 54 images/s; batch 128 gave roughly 20% more images/s, 32
        # 10% fewer, and more updates per image were worth more than that for lenet5 and conv28 (above).
        batch_size=PerArchitecture(64, conv28=16, lenet5=8, deep_convolution=64),
    ),
}

RECIPE_FIELDS = tuple(RECIPES['seed'])
DEFAULT_RECIPE = 'tuned'
