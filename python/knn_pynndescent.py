"""pynndescent side of the kNN comparison (scripts/graph_compare.ts writes the points).

Usage: /usr/bin/python3 python/knn_pynndescent.py POINTS.f64 N D K

Builds the k-NN graph twice in one process: "seconds" is the first build (what a command-line
user waits for, numba compilation included), "warm_seconds" the second (compiled). Writes the
first build's neighbours (itself dropped) to POINTS.f64.pynn.i32 as N x K int32 and prints one
JSON line. Prints {"skipped": why} when pynndescent is not installed.
"""
import json
import sys
import time

import numpy as np

try:
    from pynndescent import NNDescent
except ImportError:
    print(json.dumps({"skipped": "pynndescent is not installed (Debian: apt install python3-pynndescent)"}))
    sys.exit(0)

path, n, d, k = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
x = np.fromfile(path, dtype=np.float64).reshape(n, d).astype(np.float32)
t = time.perf_counter()
index = NNDescent(x, n_neighbors=k + 1, random_state=0, n_jobs=1)
neighbours, _ = index.neighbor_graph
seconds = time.perf_counter() - t
t = time.perf_counter()
NNDescent(x, n_neighbors=k + 1, random_state=1, n_jobs=1).neighbor_graph
warm = time.perf_counter() - t
# Drop each point itself (pynndescent lists it first).
out = np.empty((n, k), dtype=np.int32)
for i in range(n):
    row = [j for j in neighbours[i] if j != i][:k]
    out[i, : len(row)] = row
out.tofile(path + ".pynn.i32")
print(json.dumps({"seconds": seconds, "warm_seconds": warm}))
