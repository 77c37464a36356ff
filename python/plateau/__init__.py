"""plateau: exact and analytic risks of learned linear estimators, the validation harness and
the scaling-law fits of the ``plateau`` command line, for Python.

The model (Klug & Heckel, ICLR 2023, Section 5): a signal ``x = U c`` in a random
``d``-dimensional subspace of ``R^n`` (``c ~ N(0, I_d)``), observed as ``y = x + z`` with
``z ~ N(0, sigma^2 I_n)``. A linear estimator ``x_hat = W y`` learned from ``N`` training pairs
has the risk ``R(W) = (||(W - I) U||_F^2 + sigma^2 ||W||_F^2) / d`` (the MSE normalised by
``E ||x||^2 = d``), whose minimum is the floor ``sigma^2 / (1 + sigma^2)``.

Every function here calls the same library code as the CLI command named in its docstring, with
the same defaults and seeds, so its numbers are the CLI's bit for bit. Tables are column-wise
dicts of numpy arrays (``pandas.DataFrame(table)`` takes them as they are). Long calls release
the GIL and stop on Ctrl-C between batches; bad input raises ``ValueError`` naming the argument,
with the CLI's one-line message where the CLI has one.
"""

from __future__ import annotations

import json
import math
import numbers
import sys
from typing import Any, Callable, Dict, Iterable, List, Optional, Sequence, Tuple, Union

import numpy as np

from . import _plateau
from ._plateau import DEFAULT_ITERS, ESTIMATORS, DiagonalModel, Setup, __version__

__all__ = [
    "Setup",
    "DiagonalModel",
    "ESTIMATORS",
    "DEFAULT_ITERS",
    "monte_carlo",
    "exact_risks",
    "gd_path",
    "analytic",
    "analytic_gd_path",
    "validate",
    "fit",
    "plan",
    "plan_theory",
    "__version__",
]

Progress = Union[bool, Callable[[int, int], Any], None]


# ---------------------------------------------------------------------------------------------
# Argument checks: every error names the argument.


def _size(name: str, value: Any) -> int:
    """A training-set size (an integer >= 1, given as an int, a numpy integer or an integral
    float)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError(f"{name} must be an integer, got {value!r}")
    v = float(value)
    if not math.isfinite(v):
        raise ValueError(f"{name} must be a finite integer, got {value!r}")
    if v != math.floor(v):
        raise ValueError(f"{name} must be an integer, got {value!r}")
    if v < 1:
        raise ValueError(f"{name} must be at least 1, got {value!r}")
    return int(value)


def _count(name: str, value: Any, minimum: int = 0) -> int:
    """A non-negative integer argument (runs, iters, seed, reps, ...)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        if isinstance(value, numbers.Real) and float(value).is_integer():
            value = int(value)
        else:
            raise ValueError(f"{name} must be an integer, got {value!r}")
    if value < minimum:
        raise ValueError(f"{name} must be at least {minimum}, got {value!r}")
    return int(value)


def _sizes(name: str, values: Any) -> List[int]:
    """A 1-D sequence of training-set sizes."""
    arr = np.asarray(values)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be a 1-D sequence of integers, got shape {arr.shape}")
    return [_size(f"{name}[{i}]", v.item() if hasattr(v, "item") else v) for i, v in enumerate(arr)]


def _real(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError(f"{name} must be a number, got {value!r}")
    v = float(value)
    if not math.isfinite(v):
        raise ValueError(f"{name} must be finite, got {v}")
    return v


def _vector(name: str, values: Any) -> np.ndarray:
    """A 1-D array of finite floats."""
    try:
        arr = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError) as e:
        raise ValueError(f"{name} must be an array of numbers: {e}") from None
    if arr.ndim != 1:
        raise ValueError(f"{name} must be 1-D, got shape {arr.shape}")
    bad = np.flatnonzero(~np.isfinite(arr))
    if bad.size:
        raise ValueError(f"{name}[{bad[0]}] is {arr[bad[0]]}: values must be finite")
    return arr


def _pair(x: Any, y: Any, xname: str = "x", yname: str = "y") -> Tuple[List[float], List[float]]:
    xs, ys = _vector(xname, x), _vector(yname, y)
    if xs.size != ys.size:
        raise ValueError(f"{xname} and {yname} have different lengths ({xs.size} and {ys.size})")
    return xs.tolist(), ys.tolist()


def _setup(name: str, value: Any) -> Setup:
    if not isinstance(value, Setup):
        raise ValueError(f"{name} must be a plateau.Setup, got {type(value).__name__}")
    return value


def _estimators(value: Optional[Union[str, Sequence[str]]]) -> List[str]:
    if value is None:
        return list(ESTIMATORS)
    names = value.split(",") if isinstance(value, str) else list(value)
    for e in names:
        if not isinstance(e, str):
            raise ValueError(f"estimators must be names, got {e!r}")
    return [e.strip() for e in names]


def _step(step: Optional[float]) -> Optional[float]:
    return None if step is None else _real("step", step)


def _progress(progress: Progress, unit: str) -> Optional[Callable[[int, int], Any]]:
    """``True``: a line on ``sys.stderr`` after each batch; a callable gets ``(done, total)``."""
    if progress is None or progress is False:
        return None
    if progress is True:

        def show(done: int, total: int) -> None:
            end = "\n" if done == total else ""
            sys.stderr.write(f"\rplateau: {done}/{total} {unit}{end}")
            sys.stderr.flush()

        return show
    if not callable(progress):
        raise ValueError(f"progress must be a bool or a callable(done, total), got {progress!r}")
    return progress


# ---------------------------------------------------------------------------------------------
# The subspace model: Monte Carlo and analytic risks (`plateau theory`, `plateau path`).


def monte_carlo(
    setup: Setup,
    train_sizes: Optional[Iterable[int]] = None,
    runs: int = 5,
    seed: int = 0,
    estimators: Optional[Union[str, Sequence[str]]] = None,
    iters: int = DEFAULT_ITERS,
    engine: str = "auto",
    step: Optional[float] = None,
    progress: Progress = False,
) -> Dict[str, Any]:
    """Exact risk of learned linear estimators over ``runs`` independent training sets at each
    size: ``plateau theory`` (same seed, same numbers, bit for bit).

    Estimators: ``optimal`` (``W* = U U^T / (1 + sigma^2)``, the floor), ``pca``
    (``U_hat U_hat^T / (1 + sigma^2)``, ``U_hat`` the top-``d`` left singular vectors of ``Y``),
    ``least_squares`` (min-norm ``X pinv(Y)``) and ``gd_early_stopped`` (gradient descent from
    0 with the paper's step ``eta = 1 / (N (1 + eps)(1 + sigma^2))``, or ``step``, stopped at
    its best iterate ``k <= iters``). Draw ``j`` at size ``N`` depends only on
    ``(seed, setup, N, j)``.

    Returns the columns of the CLI's CSV: ``d, n, sigma, N, estimator, mean, std, runs,
    k_opt_mean`` (``std`` is the sample standard deviation over the draws, NaN for one draw;
    ``k_opt_mean`` the mean early-stopping iteration, NaN except for gradient descent). Risks
    are dimensionless (MSE / ``E||x||^2``). ``train_sizes`` defaults to the paper's grid
    (``setup.default_train_sizes()``). Cost: ``O(n min(n, N)^2)``-ish per draw (see
    ``theory/exact.md``).
    """
    setup = _setup("setup", setup)
    sizes = setup.default_train_sizes() if train_sizes is None else _sizes("train_sizes", train_sizes)
    return _plateau.monte_carlo(
        setup,
        sizes,
        _count("runs", runs, 1),
        _count("seed", seed),
        _estimators(estimators),
        _count("iters", iters),
        engine,
        _step(step),
        _progress(progress, "draws"),
    )


def exact_risks(
    setup: Setup,
    n_train: int,
    seed: int = 0,
    estimators: Optional[Union[str, Sequence[str]]] = None,
    iters: int = DEFAULT_ITERS,
    engine: str = "auto",
    step: Optional[float] = None,
) -> Dict[str, Dict[str, Any]]:
    """The exact risk of every estimator on one drawn training set of ``n_train`` examples: draw
    0 of ``monte_carlo(setup, [n_train], runs=1, seed=seed)``.

    Returns ``{estimator: {"risk": R, "k_opt": k}}`` (``k_opt``: the early-stopping iteration of
    gradient descent, ``None`` for the others).
    """
    setup = _setup("setup", setup)
    names, risks, ks = _plateau.exact_risks(
        setup,
        _size("n_train", n_train),
        _count("seed", seed),
        _estimators(estimators),
        _count("iters", iters),
        engine,
        _step(step),
    )
    return {e: {"risk": r, "k_opt": k} for e, r, k in zip(names, risks, ks)}


def gd_path(
    setup: Setup,
    n_train: int,
    seed: int = 0,
    iters: int = DEFAULT_ITERS,
    engine: str = "auto",
    step: Optional[float] = None,
) -> np.ndarray:
    """The exact risk of gradient descent ``W_{k+1} = W_k - eta (W_k Y Y^T - X Y^T)`` from
    ``W_0 = 0`` after ``k = 0..iters`` steps on one training set drawn from ``seed``:
    ``plateau path`` (``--method spectral``, the same draw for the same seed). Shape
    ``(iters + 1,)``; ``path[0] = 1`` (the risk of ``W = 0``).
    """
    setup = _setup("setup", setup)
    return _plateau.gd_path(
        setup, _size("n_train", n_train), _count("seed", seed), _count("iters", iters), engine, _step(step)
    )


def analytic(
    setup: Setup,
    train_sizes: Optional[Iterable[int]] = None,
    estimators: Optional[Union[str, Sequence[str]]] = None,
    step: Optional[float] = None,
) -> Dict[str, Any]:
    """The deterministic equivalents of the expected risks (``theory/analytic.md``):
    ``plateau theory --analytic``, in the same columns as ``monte_carlo`` (``runs`` 0, ``std``
    NaN, ``mean`` inf where the expectation is infinite: least squares at ``N`` in
    ``{n-1, n, n+1}``; ``k_opt_mean`` the predicted stopping iteration of gradient descent).
    """
    setup = _setup("setup", setup)
    sizes = setup.default_train_sizes() if train_sizes is None else _sizes("train_sizes", train_sizes)
    return _plateau.analytic(setup, sizes, _estimators(estimators), _step(step))


def analytic_gd_path(
    setup: Setup, n_train: int, iters: int = DEFAULT_ITERS, step: Optional[float] = None
) -> np.ndarray:
    """The deterministic equivalent of ``E[R_k]`` for ``k = 0..iters`` (gradient descent from 0,
    the paper's step unless ``step``): ``plateau path --analytic``. Shape ``(iters + 1,)``."""
    setup = _setup("setup", setup)
    return _plateau.analytic_gd_path(setup, _size("n_train", n_train), _count("iters", iters), _step(step))


# ---------------------------------------------------------------------------------------------
# Validation of a user's formula (`plateau_theory::validate`, `plateau validate`).

Predict = Union[Callable[[Setup, int], float], Sequence[float], np.ndarray]


def _points(points: Any) -> List[Tuple[Setup, int]]:
    try:
        items = list(points)
    except TypeError:
        raise ValueError("points must be a sequence of (Setup, N) pairs") from None
    if not items:
        raise ValueError("points must hold at least one (Setup, N) pair")
    out = []
    for i, p in enumerate(items):
        if not (isinstance(p, (tuple, list)) and len(p) == 2):
            raise ValueError(f"points[{i}] must be a (Setup, N) pair, got {p!r}")
        out.append((_setup(f"points[{i}][0]", p[0]), _size(f"points[{i}][1]", p[1])))
    return out


def _predictions(predict: Predict, points: List[Tuple[Setup, int]]) -> List[float]:
    if callable(predict):
        values = []
        for s, n in points:
            try:
                v = predict(s, n)
            except Exception as e:  # the user's code: any failure is reported with its point
                raise ValueError(f"predict raised {type(e).__name__} at {s!r}, N = {n}: {e}") from e
            if isinstance(v, bool) or not isinstance(v, numbers.Real) or not math.isfinite(float(v)):
                raise ValueError(f"predict returned {v!r} at {s!r}, N = {n}: a finite number is needed")
            values.append(float(v))
        return values
    arr = _vector("predict", predict)
    if arr.size != len(points):
        raise ValueError(f"predict and points have different lengths ({arr.size} and {len(points)})")
    return arr.tolist()


def validate(
    predict: Predict,
    points: Sequence[Tuple[Setup, int]],
    estimator: str,
    tol_excess: float = 0.05,
    tol_z: float = 3.0,
    target_rel_se: float = 0.02,
    max_draws: int = 400,
    seed: int = 0,
    iters: int = DEFAULT_ITERS,
    step: Optional[float] = None,
    progress: Progress = False,
) -> Dict[str, Any]:
    """Checks a prediction of the expected risk of ``estimator`` against the exact Monte Carlo
    (``plateau_theory::validate``, ``theory/validate.md``).

    ``predict(setup, N) -> float`` (any Python callable) or an array of predictions, one per
    ``(setup, N)`` of ``points``. Each point draws exact risks until the standard error is at
    most ``target_rel_se`` of the excess ``mean - floor`` (or ``max_draws``) and passes when
    ``|predicted - mean| <= max(tol_excess (mean - floor), tol_z stderr)``. For
    ``gd_early_stopped`` the prediction is ``min_k E[R_k]`` and is compared with the minimum of
    the mean path. Same seed, same draws as the Rust ``compare_formula``.

    Returns ``plateau validate``'s JSON report as a dict (``criterion``, ``pooled`` statistics
    per estimator over all setups and ``per_setup``, ``points``, ``verdict``), plus ``all_pass`` (every point meets
    the criterion) and ``table`` (the points as columns: ``d, n, sigma, N, predicted, mc_mean,
    mc_se, draws, z, rel_excess_err, pass``).
    """
    pts = _points(points)
    if not isinstance(estimator, str):
        raise ValueError(f"estimator must be a name, got {estimator!r}")
    predicted = _predictions(predict, pts)
    report = json.loads(
        _plateau.validate(
            pts,
            predicted,
            estimator,
            _real("tol_excess", tol_excess),
            _real("tol_z", tol_z),
            _real("target_rel_se", target_rel_se),
            _count("max_draws", max_draws),
            _count("seed", seed),
            _count("iters", iters),
            _step(step),
            _progress(progress, "points"),
        )
    )
    report["all_pass"] = bool(report["verdict"]["points_pass"])
    report["table"] = _point_table(report["points"])
    return report


def _point_table(points: List[Dict[str, Any]]) -> Dict[str, Any]:
    cols: Dict[str, Any] = {
        "d": np.array([p["setup"]["d"] for p in points], dtype=np.int64),
        "n": np.array([p["setup"]["n"] for p in points], dtype=np.int64),
        "sigma": np.array([p["setup"]["sigma"] for p in points], dtype=np.float64),
        "N": np.array([p["N"] for p in points], dtype=np.int64),
    }
    for key in ("predicted", "mc_mean", "mc_se", "z", "rel_excess_err"):
        cols[key] = np.array([np.nan if p[key] is None else p[key] for p in points], dtype=np.float64)
    cols["draws"] = np.array([p["draws"] for p in points], dtype=np.int64)
    cols["pass"] = np.array([p["pass"] for p in points], dtype=bool)
    return cols


# ---------------------------------------------------------------------------------------------
# Scaling-law fits and data plans (`plateau fit`, `plateau plan`).


def _range(value: Any) -> Optional[str]:
    if value is None or isinstance(value, str):
        return value
    try:
        lo, hi = value
    except (TypeError, ValueError):
        raise ValueError(f"range must be 'LO:HI' or a (lo, hi) pair, got {value!r}") from None
    side = lambda v: "" if v is None else repr(_real("range", v))  # noqa: E731
    return f"{side(lo)}:{side(hi)}"


def _at_keys(value: Any) -> List[Tuple[str, float]]:
    items = value.split(",") if isinstance(value, str) else list(value)
    out = []
    for v in items:
        if isinstance(v, str):
            key = v.strip()
            try:
                x = float(key)
            except ValueError:
                raise ValueError(f"invalid at value '{key}': expected positive numbers such as 1e5,1e6") from None
        else:
            x = _real("at", v)
            key = f"{x:g}"
        if not (math.isfinite(x) and x > 0):
            raise ValueError(f"invalid at value '{key}': expected positive numbers such as 1e5,1e6")
        out.append((key, x))
    return out


def _reals(name: str, values: Any) -> List[float]:
    if values is None:
        return []
    if isinstance(values, numbers.Real):
        values = [values]
    return _vector(name, list(values)).tolist()


def fit(
    x: Any,
    y: Any,
    model: str = "auto",
    range: Any = None,
    bootstrap: str = "auto",
    reps: int = 1000,
    seed: int = 0,
    at: Any = ("1e5", "1e6", "1e7"),
    backtest: bool = False,
    select: str = "aicc",
    std: Any = None,
    runs: Any = None,
    group: str = "all",
) -> Dict[str, Any]:
    """Fits a scaling law to the curve ``(x[i], y[i])`` (training-set size ``N``, error): the
    object ``plateau fit`` writes for one group, as a dict (same serde types, same numbers).

    Models (``docs/fits.md``): ``power`` ``R = beta N^alpha``; ``saturating``
    ``R = a N^-b + c`` (``c`` the fitted floor); ``broken`` (smoothly broken power law);
    ``auto`` detects the steep segment and chooses by AICc (or by held-out error with
    ``select="backtest"``). Repeated ``x`` are draws at that ``N``; ``std`` and ``runs`` (one
    row per ``x``) give the standard error of ``ln y`` for the parametric bootstrap. ``range``:
    ``"LO:HI"`` or ``(lo, hi)`` (``None`` for an open end). ``at``: extrapolation points, the
    dict keys are written as given (numbers as ``f"{x:g}"``). Intervals are 95% bootstrap
    percentiles over ``reps`` replicates drawn from ``seed``.
    """
    xs, ys = _pair(x, y)
    std_v = None if std is None else _vector("std", std).tolist()
    runs_v = None if runs is None else _vector("runs", runs).tolist()
    return json.loads(
        _plateau.fit(
            xs,
            ys,
            model,
            _range(range),
            bootstrap,
            _count("reps", reps),
            _count("seed", seed),
            _at_keys(at),
            bool(backtest),
            select,
            group,
            std_v,
            runs_v,
        )
    )


def plan(
    x: Any,
    y: Any,
    within: Any = (),
    within_db: Any = (),
    target_mse: Any = (),
    target_psnr: Any = (),
    at: Any = (1e4, 1e5, 1e6),
    peak: float = 1.0,
    floor: Optional[float] = None,
    backtest: bool = False,
    bootstrap: str = "auto",
    reps: int = 1000,
    seed: int = 0,
    group: str = "all",
) -> Dict[str, Any]:
    """How much more data a measured curve needs: the object ``plateau plan --input`` writes for
    one group, as a dict.

    Fits ``R = a N^-b + c`` and gives, per target, the ``N`` that reaches it (with a 95%
    bootstrap interval): ``within`` (fractions of the fitted floor ``c``: 0.1 is 10% above
    it), ``within_db`` (dB above it), ``target_mse`` (units of ``y``), ``target_psnr`` (dB,
    ``10 log10(peak^2 / MSE)``); none given means within 10% and within 0.1 dB. Also the gain
    per doubling of ``N`` at the largest measured ``N`` and the error at ``at``. ``floor``: the
    exact floor when known (reported beside the fitted one).
    """
    xs, ys = _pair(x, y)
    return json.loads(
        _plateau.plan(
            xs,
            ys,
            _reals("within", within),
            _reals("within_db", within_db),
            _reals("target_mse", target_mse),
            _reals("target_psnr", target_psnr),
            _reals("at", at),
            _real("peak", peak),
            None if floor is None else _real("floor", floor),
            bool(backtest),
            bootstrap,
            _count("reps", reps),
            _count("seed", seed),
            group,
        )
    )


def plan_theory(
    setup: Setup, within: Any = (0.1, 0.01), at: Any = (1e4, 1e5, 1e6)
) -> List[Dict[str, Any]]:
    """``plateau plan --d --n --sigma``: per estimator, the ``N`` from which the expected risk
    stays within each fraction of the floor, the power-law regime and its bend, and the risk at
    ``at``; a list of dicts, the CLI's JSON."""
    setup = _setup("setup", setup)
    return json.loads(_plateau.plan_theory(setup, _reals("within", within), _reals("at", at)))
