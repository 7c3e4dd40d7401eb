"""Writes lib/forest/testdata/linkage_scipy.json: scipy's single-linkage matrix Z and flat clusterings
of fixed random points, the oracle of lib/forest/hierarchy_test.ts (linkageMatrix, cutAtThreshold).

    python3 python/linkage_fixture.py   # needs numpy and scipy
"""
import json
import os

import numpy as np
import scipy
from scipy.cluster.hierarchy import fcluster, linkage
from scipy.spatial.distance import pdist

rng = np.random.default_rng(16)
# Three loose groups in 2-d plus spread points; 6 decimals keep distances distinct (no ties).
centres = np.array([[0.0, 0.0], [5.0, 1.0], [2.0, 6.0]])
points = np.vstack([c + rng.normal(scale=0.8, size=(8, 2)) for c in centres])
points = np.round(points, 6)
z = linkage(pdist(points), "single")
thresholds = [0.5, 1.0, 1.5, 2.5, 4.0]
out = {
    "scipy": scipy.__version__,
    "numpy": np.__version__,
    "points": points.tolist(),
    "Z": z.tolist(),
    "fclusterDistance": {str(t): fcluster(z, t, "distance").tolist() for t in thresholds},
    "fclusterMaxclust": {str(k): fcluster(z, k, "maxclust").tolist() for k in [2, 3, 5]},
}
path = os.path.join(os.path.dirname(__file__), "..", "lib", "forest", "testdata", "linkage_scipy.json")
with open(path, "w") as f:
    json.dump(out, f, indent=1)
    f.write("\n")
print(f"wrote {path}")
