"""The quality maths on numbers alone."""
import numpy as np
import pytest

from core import metrics


def test_frechet_distance_of_a_set_to_itself_is_zero():
    features = np.random.default_rng(0).normal(size=(500, 16))
    stats = metrics.feature_statistics(features)
    assert abs(metrics.frechet_distance(*stats, *stats)) < 1e-8


def test_frechet_distance_matches_the_closed_form():
    # Diagonal covariances: sum (sqrt(a) - sqrt(b))^2 plus the squared mean difference.
    mean_a, mean_b = np.array([0.0, 1.0]), np.array([2.0, 1.0])
    cov_a, cov_b = np.diag([1.0, 4.0]), np.diag([9.0, 1.0])
    expected = 4 + (1 - 3) ** 2 + (2 - 1) ** 2
    assert metrics.frechet_distance(mean_a, cov_a, mean_b, cov_b) == pytest.approx(expected)
    # ... and it is symmetric for non-commuting covariances.
    rng = np.random.default_rng(1)
    a, b = rng.normal(size=(3, 3)), rng.normal(size=(3, 3))
    cov_a, cov_b = a @ a.T, b @ b.T
    forward = metrics.frechet_distance(mean_a[:1].repeat(3), cov_a, mean_b[:1].repeat(3), cov_b)
    backward = metrics.frechet_distance(mean_b[:1].repeat(3), cov_b, mean_a[:1].repeat(3), cov_a)
    assert forward == pytest.approx(backward, rel=1e-6) and forward > 0


def test_classifier_score_bounds():
    confident_and_even = np.eye(10)[np.arange(1000) % 10]
    assert metrics.classifier_score(confident_and_even) == pytest.approx(10, rel=1e-6)
    one_class = np.eye(10)[np.zeros(1000, dtype=int)]
    assert metrics.classifier_score(one_class) == pytest.approx(1)
    unsure = np.full((1000, 10), 0.1)
    assert metrics.classifier_score(unsure) == pytest.approx(1)


def test_class_coverage_and_conditional_accuracy():
    even = np.eye(10)[np.arange(100) % 10]
    coverage = metrics.class_coverage(even)
    assert coverage['evenness'] == pytest.approx(1) and coverage['min_share'] == pytest.approx(0.1)
    collapsed = metrics.class_coverage(np.eye(10)[np.full(100, 3)])
    assert collapsed['evenness'] == pytest.approx(0) and collapsed['shares'][3] == 1
    assert metrics.conditional_accuracy(even, np.arange(100) % 10) == 1
    assert metrics.conditional_accuracy(even, (np.arange(100) + 1) % 10) == 0
