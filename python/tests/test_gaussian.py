"""The general Gaussian model agrees with the subspace model where they coincide."""

import math

import numpy as np

import plateau


def subspace_as_diagonal(d, n, sigma):
    spectrum = np.r_[np.ones(d), np.zeros(n - d)]
    return plateau.DiagonalModel(spectrum, np.ones(n), sigma)


def test_floor_and_least_squares_match_the_subspace_model():
    d, n, sigma = 5, 40, 0.3
    s, m = plateau.Setup(d, n, sigma), subspace_as_diagonal(d, n, sigma)
    # Per coordinate (1/n) against per signal energy (1/d).
    assert math.isclose(m.floor * n / d, s.floor, rel_tol=1e-14)
    for n_train in (50, 100, 400):
        want = s.floor * (n_train - 1) / (n_train - n - 1)
        assert math.isclose(m.least_squares(n_train) * n / d, want, rel_tol=1e-12)
    assert math.isinf(m.least_squares(n))


def test_gd_path_and_ridge():
    m = subspace_as_diagonal(5, 40, 0.3)
    path = m.gd_path(80, iters=100)
    assert path.shape == (101,)
    assert math.isclose(path[0], m.signal_power, rel_tol=1e-12)
    k, r = m.gd_early_stopped(80)
    lam, best = m.ridge_optimal(80)
    assert m.floor < best <= m.ridge(80, lam * 3) and m.floor < r
