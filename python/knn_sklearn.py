"""scikit-learn side of the assignment comparison (scripts/fit_assign_compare.ts runs it).

Usage: /usr/bin/python3 python/knn_sklearn.py MODEL_DIR QUERIES.f64 Q OUT.i32

Reads the fitted model's training points and labels from MODEL_DIR (points.npy, labels.npy, as
saved by saveFittedClusters), fits KNeighborsClassifier(n_neighbors=1) (algorithm "auto") on
them, predicts the labels of the Q queries (float64, row-major), then asks for the nearest
neighbours themselves. Writes Q int32 nearest indices then Q int32 labels to OUT.i32 and prints
one JSON line with the times. Prints {"skipped": why} when scikit-learn is not installed.
"""
import json
import sys
import time

import numpy as np

try:
    import sklearn
    from sklearn.neighbors import KNeighborsClassifier
except ImportError:
    print(json.dumps({"skipped": "scikit-learn is not installed (Debian: apt install python3-sklearn)"}))
    sys.exit(0)

model, queries, q, out = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
x = np.load(f"{model}/points.npy")
labels = np.load(f"{model}/labels.npy")
y = np.fromfile(queries, dtype=np.float64).reshape(q, x.shape[1])
t = time.perf_counter()
classifier = KNeighborsClassifier(n_neighbors=1).fit(x, labels)
fit = time.perf_counter() - t
t = time.perf_counter()
predicted = classifier.predict(y)
predict = time.perf_counter() - t
t = time.perf_counter()
_, nearest = classifier.kneighbors(y, n_neighbors=1)
kneighbors = time.perf_counter() - t
np.concatenate([nearest[:, 0].astype(np.int32), predicted.astype(np.int32)]).tofile(out)
print(json.dumps({
    "version": sklearn.__version__,
    "algorithm": classifier._fit_method,
    "fit_s": fit,
    "predict_s": predict,
    "kneighbors_s": kneighbors,
}))
