"""Figures from a classifier judge's class probabilities: the score, class evenness, conditional accuracy."""
import numpy as np


def classifier_score(probs, eps=1e-12):
    """exp(mean KL(p(y|x) || p(y))): an Inception-Score analogue for digits, from 1 to the class count."""
    probs = np.asarray(probs, dtype=np.float64)
    marginal = probs.mean(axis=0)
    kl = (probs * (np.log(probs + eps) - np.log(marginal + eps))).sum(axis=1)
    return float(np.exp(kl.mean()))


def class_coverage(probs):
    """How evenly the classes appear among the judge's readings.

    Returns the share of each class, and their normalised entropy: 1 when all
    classes are equally frequent, 0 when every sample reads as one class.
    """
    probs = np.asarray(probs)
    classes = probs.shape[1]
    shares = np.bincount(probs.argmax(axis=1), minlength=classes) / len(probs)
    nonzero = shares[shares > 0]
    entropy = abs(float(-(nonzero * np.log(nonzero)).sum() / np.log(classes)))  # abs: no '-0.0'
    return {'evenness': entropy, 'shares': shares.tolist(), 'min_share': float(shares.min())}


def conditional_accuracy(probs, requested):
    """Share of samples that the judge reads as the class they were drawn for."""
    return float((np.asarray(probs).argmax(axis=1) == np.asarray(requested)).mean())
