"""scipy side of scripts/graph_compare.ts.

    python3 python/graph_scipy.py mst POINTS.f64 N
        Times the scipy composition for 2-d single linkage at scale: Delaunay triangulation,
        its edge list with Euclidean lengths, csgraph.minimum_spanning_tree. Prints JSON with
        the seconds of each stage and the MST's total length (our forest must match it).

    python3 python/graph_scipy.py linkage POINTS.f64 N D K1,K2,... LABELS.i32
        linkage(pdist(X), "single") and cut_tree at each k; writes the labels (len(K) x N int32).

Reads float64 little-endian row-major points. Exit code 3 if numpy/scipy are missing.
"""
import json
import sys
import time

try:
    import numpy as np
    import scipy
    from scipy.cluster.hierarchy import cut_tree, linkage
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import minimum_spanning_tree
    from scipy.spatial import Delaunay
    from scipy.spatial.distance import pdist
except ImportError as e:  # pragma: no cover - reported by the caller
    print(json.dumps({"missing": str(e)}))
    sys.exit(3)


def mst(path: str, n: int) -> None:
    x = np.fromfile(path, dtype="<f8").reshape(n, 2)
    t0 = time.perf_counter()
    tri = Delaunay(x)
    t1 = time.perf_counter()
    s = tri.simplices
    a = np.concatenate([s[:, 0], s[:, 1], s[:, 2]])
    b = np.concatenate([s[:, 1], s[:, 2], s[:, 0]])
    lo, hi = np.minimum(a, b), np.maximum(a, b)
    pairs = np.unique(lo.astype(np.int64) * n + hi)
    i, j = pairs // n, pairs % n
    w = np.sqrt(((x[i] - x[j]) ** 2).sum(axis=1))
    g = coo_matrix((w, (i, j)), shape=(n, n)).tocsr()
    t2 = time.perf_counter()
    tree = minimum_spanning_tree(g)
    t3 = time.perf_counter()
    print(json.dumps({
        "delaunay_s": t1 - t0, "edges_s": t2 - t1, "mst_s": t3 - t2, "total_s": t3 - t0,
        "edges": int(len(pairs)), "mst_length": float(tree.sum()), "mst_edges": int(tree.nnz),
        "scipy": scipy.__version__, "numpy": np.__version__,
    }))


def link(path: str, n: int, d: int, ks: str, out: str) -> None:
    x = np.fromfile(path, dtype="<f8").reshape(n, d)
    t0 = time.perf_counter()
    z = linkage(pdist(x), method="single")
    t1 = time.perf_counter()
    labels = cut_tree(z, n_clusters=[int(k) for k in ks.split(",")]).T.astype("<i4")
    labels.tofile(out)
    print(json.dumps({"linkage_s": t1 - t0}))


if __name__ == "__main__":
    if sys.argv[1] == "mst":
        mst(sys.argv[2], int(sys.argv[3]))
    else:
        link(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5], sys.argv[6])
