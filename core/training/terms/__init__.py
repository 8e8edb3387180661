"""Extra terms of the training objective, one file each, chosen from the config.

Each is a :class:`~.base.Term`: it adds to D's loss, to G's, or to both, and
the step sums them after the GAN loss (core/training/losses.py). A new term is
one file here and one line in ``TERMS``.
"""
from .acgan import AuxiliaryClassifier
from .base import Judged, Term
from .infogan import InfoGANCodes, code_loss
from .mode_seeking import ModeSeeking, mode_seeking_penalty

# The terms, in the order their losses are added. Each decides from the config whether it is on.
TERMS = {
    'acgan': AuxiliaryClassifier,    # --conditioning acgan: D names the class of what it sees
    'infogan': InfoGANCodes,         # --discriminator-type infogan: G's codes, and Q reading them back
    'mode_seeking': ModeSeeking,     # --mode-seeking W: G spreads its images out
}


def build_terms(cfg):
    """The terms that config ``cfg`` turns on, in ``TERMS``' order."""
    return [term(cfg) for term in TERMS.values() if term.wanted(cfg)]


__all__ = ['TERMS', 'build_terms', 'Judged', 'Term', 'AuxiliaryClassifier', 'InfoGANCodes', 'ModeSeeking',
           'code_loss', 'mode_seeking_penalty']
