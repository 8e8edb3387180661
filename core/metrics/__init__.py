"""Quality figures, in plain numpy: each takes what a judge produced (features, class probabilities).

One file per figure, so each can be checked on numbers alone:

- fid.py: the Frechet distance between feature Gaussians;
- kid.py: the kernel distance (unbiased MMD^2), fair to small sets;
- precision_recall.py: how many samples look like data, and how much of the data they cover (with
  density and coverage, which a single blob of samples cannot fool);
- classifier.py: the classifier score, class evenness and conditional accuracy of a classifier judge;
- points.py: the 2-D figures of seed 004's toy.
"""
from .classifier import class_coverage, classifier_score, conditional_accuracy
from .fid import feature_statistics, frechet_distance
from .kid import feature_scale, kernel_distance, squared_mmd
from .points import cell_coverage, energy_distance, mode_coverage
from .precision_recall import manifold_figures, neighbour_radii, precision_recall, share_inside

__all__ = ['cell_coverage', 'class_coverage', 'classifier_score', 'conditional_accuracy', 'energy_distance',
           'feature_scale', 'feature_statistics', 'frechet_distance', 'kernel_distance', 'manifold_figures',
           'mode_coverage', 'neighbour_radii', 'precision_recall', 'share_inside', 'squared_mmd']
