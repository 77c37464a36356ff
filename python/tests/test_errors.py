"""Bad input raises a Python exception naming the argument; long calls release the GIL and stop
on Ctrl-C."""

import math
import os
import signal
import threading
import time

import numpy as np
import pytest

import plateau

S = plateau.Setup(4, 20, 0.3)


def test_setup_d_above_n():
    with pytest.raises(ValueError, match=r"invalid setup: d \(11\) must not exceed n \(10\)"):
        plateau.Setup(11, 10, 0.1)


@pytest.mark.parametrize("sigma", [math.nan, math.inf, -0.1])
def test_setup_bad_sigma(sigma):
    with pytest.raises(ValueError, match="sigma must be finite and non-negative"):
        plateau.Setup(4, 20, sigma)


def test_setup_non_integer_dimension_names_it():
    with pytest.raises(TypeError, match="argument 'd'"):
        plateau.Setup(2.5, 20, 0.1)
    with pytest.raises(ValueError, match="invalid setup: n must be a non-negative integer, got -20"):
        plateau.Setup(2, -20, 0.1)


@pytest.mark.parametrize(
    "sizes,message",
    [
        ([4, 2.5], r"train_sizes\[1\] must be an integer, got 2.5"),
        ([-3], r"train_sizes\[0\] must be at least 1, got -3"),
        ([0], r"train_sizes\[0\] must be at least 1"),
        ([4, math.nan], r"train_sizes\[1\] must be a finite integer"),
        (np.array([[4]]), r"train_sizes must be a 1-D sequence"),
        ([4, 4], r"training-set size N = 4 is listed twice"),
    ],
)
def test_bad_train_sizes(sizes, message):
    with pytest.raises(ValueError, match=message):
        plateau.monte_carlo(S, sizes, runs=2)


def test_bad_runs_estimator_engine():
    with pytest.raises(ValueError, match="runs must be at least 1"):
        plateau.monte_carlo(S, [4], runs=0)
    with pytest.raises(ValueError, match="unknown estimator 'ridge'"):
        plateau.monte_carlo(S, [4], estimators=["ridge"])
    with pytest.raises(ValueError, match="unknown engine 'fast'"):
        plateau.monte_carlo(S, [4], engine="fast")
    with pytest.raises(ValueError, match="step must be finite"):
        plateau.gd_path(S, 4, step=math.nan)


def test_fit_bad_arrays():
    with pytest.raises(ValueError, match=r"x and y have different lengths \(3 and 4\)"):
        plateau.fit([1, 2, 3], [1, 2, 3, 4])
    with pytest.raises(ValueError, match=r"y\[1\] is nan"):
        plateau.fit([1, 2, 3], [1, math.nan, 3])
    with pytest.raises(ValueError, match=r"x\[0\] is inf"):
        plateau.plan([math.inf, 2, 3, 4], [1, 2, 3, 4])
    with pytest.raises(ValueError, match="unknown model 'cubic'"):
        plateau.fit([1, 2, 4, 8], [1, 0.5, 0.3, 0.2], model="cubic")


def test_validate_bad_predictions():
    pts = [(S, 40), (S, 60)]
    with pytest.raises(ValueError, match=r"predict raised ZeroDivisionError at Setup\(d=4, n=20, sigma=0.3\), N = 40"):
        plateau.validate(lambda s, n: 1 / 0, pts, "least_squares")
    with pytest.raises(ValueError, match=r"predict returned nan at .*N = 60"):
        plateau.validate(lambda s, n: math.nan if n == 60 else 0.1, pts, "least_squares")
    with pytest.raises(ValueError, match=r"predict and points have different lengths \(1 and 2\)"):
        plateau.validate([0.1], pts, "least_squares")
    with pytest.raises(ValueError, match=r"points\[1\]\[1\] must be at least 1"):
        plateau.validate([0.1, 0.1], [(S, 40), (S, 0)], "least_squares")
    with pytest.raises(ValueError, match="no excess risk"):
        plateau.validate([0.1, 0.1], pts, "optimal")


def test_diagonal_model_bad_input():
    with pytest.raises(ValueError, match="invalid setup"):
        plateau.DiagonalModel(np.array([1.0, 2.0]), np.array([1.0]), 0.1)
    m = plateau.DiagonalModel(np.ones(4), np.ones(4), 0.1)
    with pytest.raises(ValueError, match="n_train must be at least 1"):
        m.gd_path(0)


def test_long_call_releases_the_gil():
    ticks = []
    worker = threading.Thread(target=plateau.monte_carlo, args=(plateau.Setup(10, 200, 0.1), [150, 300], 16))
    worker.start()
    while worker.is_alive():
        ticks.append(time.perf_counter())
        time.sleep(0.005)
    worker.join()
    # With the GIL held for the whole call the loop would not run while the worker computes.
    assert len(ticks) >= 5, len(ticks)


def test_ctrl_c_stops_between_batches():
    setup = plateau.Setup(10, 400, 0.1)
    sizes = list(range(300, 1500, 50))  # 24 sizes x 40 runs: many seconds of work
    # A shell without job control starts background commands with SIGINT ignored, and Python
    # then keeps it ignored: Ctrl-C's own handler for this test, whatever pytest inherited.
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    timer = threading.Timer(0.5, os.kill, (os.getpid(), signal.SIGINT))
    start = time.perf_counter()
    timer.start()
    try:
        with pytest.raises(KeyboardInterrupt):
            plateau.monte_carlo(setup, sizes, runs=40)
    finally:
        timer.cancel()
        signal.signal(signal.SIGINT, previous)
    elapsed = time.perf_counter() - start
    estimate_total = 24 * 40 * 0.02  # a lower bound on the whole run (about 20 ms a draw)
    assert elapsed < estimate_total, elapsed
