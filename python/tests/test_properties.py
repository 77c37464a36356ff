"""A user's property test of a formula through plateau.strategies (hypothesis)."""

import math

from hypothesis import given, settings
from hypothesis import strategies as st

import plateau
from plateau.strategies import SetupRanges, setup_and_size, setups, train_sizes


@settings(max_examples=40, deadline=None)
@given(setup_and_size(SetupRanges(), 4.0, 3.0))
def test_strategies_give_valid_setups_and_sizes(pair):
    setup, n_train = pair
    assert 5 <= setup.d <= 25 and setup.d <= setup.n
    assert 4 * setup.d <= setup.n < 8 * setup.d + 1
    assert 0.05 <= setup.sigma < 0.5
    assert max(4 * setup.d, 1) <= n_train <= max(3 * setup.n, 4 * setup.d)


# A user's formula: the expected least-squares risk above the interpolation threshold,
# floor (N - 1) / (N - n - 1) (inverse-Wishart mean), against the package's analytic predictions.
@settings(max_examples=25, deadline=None)
@given(setups(SetupRanges(d=(1, 10), n_over_d=(1.0, 6.0), sigma=(0.0, 1.0))).flatmap(
    lambda s: st.tuples(st.just(s), train_sizes(s, 0.0, 4.0).filter(lambda n: n > s.n + 1))))
def test_least_squares_formula_matches_analytic(pair):
    setup, n_train = pair
    formula = setup.floor * (n_train - 1) / (n_train - setup.n - 1)
    got = plateau.analytic(setup, [n_train], ["least_squares"])["mean"][0]
    assert math.isclose(got, formula, rel_tol=1e-12, abs_tol=1e-15)


@settings(max_examples=15, deadline=None)
@given(setup_and_size(SetupRanges(d=(1, 6), n_over_d=(1.0, 5.0)), 0.5, 2.0), st.integers(0, 2**32))
def test_no_estimator_beats_the_floor(pair, seed):
    setup, n_train = pair
    risks = plateau.exact_risks(setup, n_train, seed=seed, iters=200)
    assert risks["optimal"]["risk"] == setup.floor
    for e in ("pca", "least_squares", "gd_early_stopped"):
        assert risks[e]["risk"] >= setup.floor * (1 - 1e-12)


# The case the least-squares property above found (CI, 2026-12-07): at a vanishing noise level the
# finite-size correction of gradient descent overflowed (inf at sigma = 2.1e-156, d = 1, n = 2).
# Every estimator's prediction is finite, and at sigma -> 0 it is the noiseless one.
def test_vanishing_noise_gives_the_noiseless_predictions():
    sizes = [4, 8]
    noiseless = plateau.analytic(plateau.Setup(1, 2, 0.0), sizes)
    for sigma in (2.0982800864566003e-156, 1e-60):
        got = plateau.analytic(plateau.Setup(1, 2, sigma), sizes)
        assert list(got["estimator"]) == list(noiseless["estimator"])
        for a, b in zip(got["mean"], noiseless["mean"]):
            assert math.isfinite(a) and math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12), (sigma, a, b)
