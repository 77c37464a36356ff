"""theory/validate.md's worked example through Python: the forgotten `-1` is rejected, the exact
formula passes (same setup, sizes, criterion and seed as the Rust doc test)."""

import pytest

import plateau

SETUP = plateau.Setup(4, 20, 0.3)
POINTS = [(SETUP, 40), (SETUP, 60), (SETUP, 100)]
CRITERION = dict(tol_excess=0.05, tol_z=3.0, target_rel_se=0.02, max_draws=4000, seed=7)


def exact(s, n_train):
    return s.floor * (n_train - 1) / (n_train - s.n - 1)


def forgot_minus_one(s, n_train):
    return s.floor * (n_train - 1) / (n_train - s.n)


@pytest.fixture(scope="module")
def good():
    return plateau.validate(exact, POINTS, "least_squares", **CRITERION)


def test_exact_formula_passes(good):
    assert good["all_pass"]
    assert not good["verdict"]["pooled_rejects_at_1pct"]
    assert good["verdict"]["exit_status"] == 0
    assert good["table"]["pass"].all()
    assert good["table"]["N"].tolist() == [40, 60, 100]


def test_forgotten_minus_one_is_rejected():
    bad = plateau.validate(forgot_minus_one, POINTS, "least_squares", **CRITERION)
    assert not bad["all_pass"]
    assert bad["verdict"]["pooled_rejects_at_1pct"]
    assert bad["verdict"]["exit_status"] == 1
    # Too low by 6-10% of the excess (theory/validate.md).
    assert (bad["table"]["rel_excess_err"] < -0.04).all()


def test_an_array_of_predictions_is_the_callable(good):
    arr = plateau.validate([exact(s, n) for s, n in POINTS], POINTS, "least_squares", **CRITERION)
    for key in ("predicted", "mc_mean", "mc_se", "z"):
        assert arr["table"][key].tolist() == good["table"][key].tolist()


def test_progress_callback_sees_every_point():
    seen = []
    plateau.validate(exact, POINTS[:2], "least_squares", max_draws=40, progress=lambda d, t: seen.append((d, t)))
    assert seen == [(1, 2), (2, 2)]
