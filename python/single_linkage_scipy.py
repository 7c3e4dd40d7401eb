"""scipy single linkage on the points that scripts/bench_compare.ts wrote, for the ratio table.

    python3 python/single_linkage_scipy.py POINTS.f64 N DIM REPS MERGES.i32

Reads N x DIM float64 points (little-endian, row-major), times `linkage(y, "single")` on the
precomputed condensed distances y = pdist(X) (pdist is excluded from the timing, as Σ is for
our solver), and writes for every merge t (in scipy's order) one point of each merged cluster
as 2 x (N - 1) int32 (first row: cluster a, second: cluster b). Prints one JSON line with the
linkage times in ms. Exit code 3 if numpy/scipy are missing.
"""
import json
import sys
import time

try:
    import numpy as np
    from scipy.cluster.hierarchy import linkage
    from scipy.spatial.distance import pdist
    import scipy
except ImportError as e:  # pragma: no cover - reported by the caller
    print(json.dumps({"missing": str(e)}))
    sys.exit(3)


def main() -> None:
    path, n, dim, reps, out = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
    x = np.fromfile(path, dtype="<f8").reshape(n, dim)
    t0 = time.perf_counter()
    y = pdist(x)
    pdist_ms = 1e3 * (time.perf_counter() - t0)
    times = []
    z = None
    for _ in range(reps):
        t0 = time.perf_counter()
        z = linkage(y, method="single")
        times.append(1e3 * (time.perf_counter() - t0))
    # A representative point of every cluster id: leaves are 0..n-1, merge t creates id n + t.
    rep = np.empty(2 * n - 1, dtype=np.int64)
    rep[:n] = np.arange(n)
    a = np.empty(n - 1, dtype="<i4")
    b = np.empty(n - 1, dtype="<i4")
    for t in range(n - 1):
        ca, cb = int(z[t, 0]), int(z[t, 1])
        a[t], b[t] = rep[ca], rep[cb]
        rep[n + t] = rep[ca]
    np.concatenate([a, b]).tofile(out)
    print(json.dumps({"linkage_ms": times, "pdist_ms": pdist_ms, "scipy": scipy.__version__,
                      "numpy": np.__version__}))


if __name__ == "__main__":
    main()
