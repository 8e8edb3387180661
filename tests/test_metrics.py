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


def test_frechet_distance_matches_scipy_sqrtm():
    from scipy import linalg
    rng = np.random.default_rng(2)
    a, b = rng.normal(size=(200, 6)), rng.normal(size=(300, 6)) @ rng.normal(size=(6, 6)) + 0.5
    (ma, ca), (mb, cb) = metrics.feature_statistics(a), metrics.feature_statistics(b)
    expected = ((ma - mb) ** 2).sum() + np.trace(ca + cb - 2 * linalg.sqrtm(ca @ cb).real)
    assert metrics.frechet_distance(ma, ca, mb, cb) == pytest.approx(expected, rel=1e-6)


def test_frechet_distance_of_two_gaussians_is_the_published_closed_form():
    # N(m, s^2 I) against N(0, t^2 I) in d dimensions: |m|^2 + d (s - t)^2.
    d, m, s, t = 4, np.array([1.0, 2.0, 0.0, -1.0]), 3.0, 0.5
    expected = (m ** 2).sum() + d * (s - t) ** 2
    assert metrics.frechet_distance(m, s ** 2 * np.eye(d), np.zeros(d), t ** 2 * np.eye(d)) == pytest.approx(expected)


def _naive_squared_mmd(x, y):
    """Unbiased MMD^2 with k(a, b) = (a.b / d + 1)^3, written pair by pair."""
    m, d = len(x), x.shape[1]
    k = lambda a, b: (a @ b / d + 1) ** 3  # noqa: E731
    xx = sum(k(x[i], x[j]) for i in range(m) for j in range(m) if i != j) / (m * (m - 1))
    yy = sum(k(y[i], y[j]) for i in range(m) for j in range(m) if i != j) / (m * (m - 1))
    xy = sum(k(x[i], y[j]) for i in range(m) for j in range(m)) / m ** 2
    return xx + yy - 2 * xy


def test_kernel_distance_matches_the_pairwise_formula_on_features_scaled_by_the_reference():
    rng = np.random.default_rng(3)
    x, y = rng.normal(size=(12, 5)), rng.normal(1, 2, size=(12, 5))
    assert metrics.squared_mmd(x, y) == pytest.approx(_naive_squared_mmd(x, y), rel=1e-10)
    # The reference's root-mean-square coordinate, written out.
    scale = np.sqrt(sum(row @ row for row in y) / (len(y) * y.shape[1]))
    assert metrics.feature_scale(y) == pytest.approx(scale, rel=1e-12)
    # One subset as large as the sets holds every row: the estimate of the whole sets (MMD ignores order).
    assert metrics.kernel_distance(x, y, subsets=3) == pytest.approx(_naive_squared_mmd(x / scale, y / scale),
                                                                     rel=1e-10)


def test_kernel_distance_does_not_change_when_a_judge_scales_its_features():
    # A judge whose features are 40 times larger must read the same KID; unscaled, the cubic kernel would
    # multiply the distance by about 40^6 and let a few large rows rule it.
    rng = np.random.default_rng(5)
    x, y = rng.normal(0.3, 1, size=(300, 16)), rng.normal(size=(300, 16))
    small = metrics.kernel_distance(x, y, subsets=5, subset_size=100)
    assert metrics.kernel_distance(40 * x, 40 * y, subsets=5, subset_size=100) == pytest.approx(small, rel=1e-9)
    assert small > 0.01 and abs(metrics.squared_mmd(40 * x[:100], 40 * y[:100])) > 1e6 * abs(small)


def test_kernel_distance_of_identical_sets_and_of_one_distribution_is_near_zero():
    rng = np.random.default_rng(4)
    x = rng.normal(size=(400, 8))
    # Identical sets: the unbiased estimate is 2 (S - T) / (m (m - 1)) - 2 S / m^2, S the kernel sum, T its trace.
    kernel = (x @ x.T / 8 + 1) ** 3
    m, total = len(x), kernel.sum()
    assert metrics.squared_mmd(x, x) == pytest.approx(2 * (total - np.trace(kernel)) / (m * (m - 1)) - 2 * total / m ** 2)
    same = metrics.kernel_distance(x, rng.normal(size=(400, 8)), subsets=20, subset_size=200)
    shifted = metrics.kernel_distance(x, rng.normal(0.5, 1, size=(400, 8)), subsets=20, subset_size=200)
    assert abs(same) < 0.05 < shifted


def _naive_precision_recall(real, fake, k):
    from scipy.spatial.distance import cdist

    def radii(a):
        return np.sort(cdist(a, a), axis=1)[:, k]

    inside_real = cdist(fake, real) <= radii(real)[None, :]  # (fake, real ball)
    precision = inside_real.any(axis=1).mean()
    recall = (cdist(real, fake) <= radii(fake)[None, :]).any(axis=1).mean()
    density = inside_real.sum() / (k * len(fake))
    coverage = inside_real.any(axis=0).mean()
    return precision, recall, density, coverage


def test_precision_and_recall_match_scipy_neighbours_across_row_blocks(monkeypatch):
    import importlib
    pr = importlib.import_module('core.metrics.precision_recall')  # the module, not its function of that name
    monkeypatch.setattr(pr, 'ROWS', 7)  # several blocks of rows, as 10,000 samples take
    rng = np.random.default_rng(5)
    real, fake = rng.normal(size=(60, 4)), rng.normal(1.5, 1.0, size=(50, 4))
    expected = _naive_precision_recall(real, fake, 3)
    got = metrics.precision_recall(real, fake, k=3)
    assert (got['precision'], got['recall'], got['density'], got['coverage']) == pytest.approx(expected)
    assert 0 < got['precision'] < 1 and 0 < got['recall'] < 1


def test_precision_and_recall_read_a_collapsed_generator():
    rng = np.random.default_rng(6)
    real = rng.normal(size=(500, 3))
    collapsed = real[:1] + rng.normal(scale=1e-3, size=(500, 3))  # every sample near one real point
    figures = metrics.precision_recall(real, collapsed)
    assert figures['precision'] == 1 and figures['recall'] < 0.05
    # Density and coverage see through it: a few real balls hold the blob, most hold nothing.
    assert figures['coverage'] < 0.05
    alike = metrics.precision_recall(real, rng.normal(size=(500, 3)))
    assert alike['precision'] > 0.8 and alike['recall'] > 0.8
    assert 0.7 < alike['density'] < 1.3 and alike['coverage'] > 0.8
    far = metrics.precision_recall(real, rng.normal(10, 1, size=(500, 3)))
    assert far['precision'] == 0 and far['recall'] == 0 and far['density'] == 0 and far['coverage'] == 0
