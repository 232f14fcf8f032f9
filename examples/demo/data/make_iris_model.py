"""Trains the demo's iris classifier with scikit-learn and exports it to ONNX.

Writes, beside this script:
  iris-classifier.onnx   the model (input "x": float32[N, 4]; outputs "label": int64[N],
                         "probabilities": float32[N, 3])
  iris-samples.json      held-out iris rows with their true labels and scikit-learn's
                         predicted labels and class probabilities, which the Node demo and
                         the adapter-onnx test check the ONNX model against

Run it from the repository root with the repository's Python environment
(python/requirements.txt, built into .cache/python/venv by ensurePythonEnv()):

  .cache/python/venv/bin/python examples/demo/data/make_iris_model.py

No download: the iris data set ships inside scikit-learn (sklearn.datasets.load_iris).
Everything random is seeded, so the same pinned versions write the same files.
"""

import hashlib
import json
import os
import sys

import numpy as np
import onnx
import onnxruntime
import skl2onnx
import sklearn
from skl2onnx import to_onnx
from skl2onnx.common.data_types import FloatTensorType
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

SEED = 42
TARGET_OPSET = 17
SAMPLES_PER_CLASS = 3
HERE = os.path.dirname(os.path.abspath(__file__))
MODEL_FILE = os.path.join(HERE, "iris-classifier.onnx")
SAMPLES_FILE = os.path.join(HERE, "iris-samples.json")


def main() -> None:
    iris = load_iris()
    x_train, x_test, y_train, y_test = train_test_split(
        iris.data, iris.target, test_size=0.3, random_state=SEED, stratify=iris.target
    )
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000, random_state=SEED))
    model.fit(x_train, y_train)
    accuracy = float(model.score(x_test, y_test))

    onx = to_onnx(
        model,
        initial_types=[("x", FloatTensorType([None, 4]))],
        target_opset=TARGET_OPSET,
        # Probabilities as a float tensor, not a list of {class: probability} maps.
        options={id(model): {"zipmap": False}},
        final_types=None,
    )
    # Name the outputs plainly (skl2onnx calls them output_label / output_probability).
    renames = {"output_label": "label", "output_probability": "probabilities"}
    for node in onx.graph.node:
        node.output[:] = [renames.get(name, name) for name in node.output]
    for output in onx.graph.output:
        output.name = renames.get(output.name, output.name)
    # skl2onnx lists the default domain twice; keep one entry of each.
    unique = {(op.domain, op.version): op for op in onx.opset_import}
    del onx.opset_import[:]
    onx.opset_import.extend(unique.values())
    onx.doc_string = "Iris classifier (StandardScaler + LogisticRegression), scikit-learn -> skl2onnx"
    onnx.checker.check_model(onx)
    data = onx.SerializeToString()
    with open(MODEL_FILE, "wb") as file:
        file.write(data)

    # A few held-out rows of each class, in a fixed order.
    rows = []
    for label in range(3):
        rows.extend([i for i in range(len(y_test)) if y_test[i] == label][:SAMPLES_PER_CLASS])
    x = x_test[rows]
    predicted = model.predict(x)
    probabilities = model.predict_proba(x)

    # The ONNX model must agree with scikit-learn before anything is recorded.
    session = onnxruntime.InferenceSession(data, providers=["CPUExecutionProvider"])
    onnx_label, onnx_probabilities = session.run(["label", "probabilities"], {"x": x.astype(np.float32)})
    if not np.array_equal(onnx_label, predicted):
        sys.exit(f"ONNX labels {onnx_label} differ from scikit-learn's {predicted}")
    worst = float(np.max(np.abs(onnx_probabilities - probabilities)))
    if worst > 1e-5:
        sys.exit(f"ONNX probabilities differ from scikit-learn's by {worst}")

    samples = {
        "description": "Held-out iris rows (test split), their true species, and scikit-learn's predictions for them",
        "model_file": os.path.basename(MODEL_FILE),
        "model_sha256": hashlib.sha256(data).hexdigest(),
        "feature_names": list(iris.feature_names),
        "class_names": [str(name) for name in iris.target_names],
        "input": {"name": "x", "type": "float32", "shape": ["N", 4]},
        "outputs": {"label": "int64[N]", "probabilities": "float32[N, 3]"},
        "test_accuracy": accuracy,
        "max_abs_difference_onnxruntime_python": worst,
        "rows": [
            {
                "features": [float(v) for v in x[i]],
                "true_label": int(y_test[rows[i]]),
                "sklearn_label": int(predicted[i]),
                "sklearn_probabilities": [float(p) for p in probabilities[i]],
            }
            for i in range(len(rows))
        ],
        "generated_with": {
            "python": sys.version.split()[0],
            "scikit-learn": sklearn.__version__,
            "skl2onnx": skl2onnx.__version__,
            "onnx": onnx.__version__,
            "onnxruntime": onnxruntime.__version__,
            "numpy": np.__version__,
            "seed": SEED,
            "target_opset": TARGET_OPSET,
        },
    }
    with open(SAMPLES_FILE, "w", encoding="utf-8") as file:
        json.dump(samples, file, indent=2)
        file.write("\n")
    print(f"wrote {MODEL_FILE} ({len(data)} bytes, sha256 {samples['model_sha256']})")
    print(f"wrote {SAMPLES_FILE} ({len(rows)} rows; test accuracy {accuracy:.3f}; ONNX vs sklearn max |diff| {worst:.2e})")


if __name__ == "__main__":
    main()
