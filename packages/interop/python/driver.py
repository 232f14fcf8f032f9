"""Drives the real Python modelstore for the interop tests.

    python driver.py <request.json> <response.json>

request.json:  {"backend": {...}, "ops": [{"op": "<name>", ...arguments}, ...]}
response.json: [{"ok": <result>} | {"error": {"type": "<exception class>", "message": "..."}}, ...]
               written with Python's json (NaN, Infinity and integers of any size as Python
               writes them in registry documents): read it with @modelstore/core's parseJson.
               one entry per op, in order; an op that raises does not stop the later ones.
               An argument "$N" is replaced by the model id that op N's upload returned.

Backends (each a local emulator; see makeStore):
  {"type": "fs", "root": "/abs/dir"}
  {"type": "minio", "endpoint": "127.0.0.1:9000", "access_key", "secret_key", "bucket", "prefix"}
  {"type": "aws-s3", "endpoint_url": "http://127.0.0.1:9000", "access_key", "secret_key", "bucket", "prefix"}
  {"type": "gcs", "endpoint": "http://127.0.0.1:4443", "bucket", "prefix"}
  {"type": "azure", "connection_string", "container", "prefix", "retry_total"?}
"""

import hashlib
import json
import os
import sys
import time
import traceback

import modelstore
from modelstore import ModelStore


def make_store(backend):
    kind = backend["type"]
    if kind == "fs":
        return ModelStore.from_file_system(root_directory=backend["root"], create_directory=True)
    if kind == "minio":
        from minio import Minio  # pylint: disable=import-outside-toplevel
        from modelstore.storage.minio import MinIOStorage  # pylint: disable=import-outside-toplevel

        client = Minio(backend["endpoint"], access_key=backend["access_key"], secret_key=backend["secret_key"], secure=False)
        return ModelStore(
            storage=MinIOStorage(endpoint=backend["endpoint"], bucket_name=backend["bucket"], root_prefix=backend.get("prefix"), client=client)
        )
    if kind == "aws-s3":
        # modelstore's AWSStorage builds its own boto3 client: boto3 reads the endpoint and keys from the environment.
        os.environ["AWS_ENDPOINT_URL"] = backend["endpoint_url"]
        os.environ["AWS_ACCESS_KEY_ID"] = backend["access_key"]
        os.environ["AWS_SECRET_ACCESS_KEY"] = backend["secret_key"]
        os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
        return ModelStore.from_aws_s3(bucket_name=backend["bucket"], region="us-east-1", root_prefix=backend.get("prefix"))
    if kind == "gcs":
        from google.auth.credentials import AnonymousCredentials  # pylint: disable=import-outside-toplevel
        from google.cloud import storage  # pylint: disable=import-outside-toplevel
        from modelstore.storage.gcloud import GoogleCloudStorage  # pylint: disable=import-outside-toplevel

        client = storage.Client(project="modelstore-test", credentials=AnonymousCredentials(), client_options={"api_endpoint": backend["endpoint"]})
        return ModelStore(
            storage=GoogleCloudStorage(project_name="modelstore-test", bucket_name=backend["bucket"], root_prefix=backend.get("prefix"), client=client)
        )
    if kind == "azure":
        from modelstore.storage.azure import AzureBlobStorage  # pylint: disable=import-outside-toplevel

        os.environ["AZURE_STORAGE_CONNECTION_STRING"] = backend["connection_string"]
        client = None
        if backend.get("retry_total") is not None:
            # A test that expects a server error asks for fewer retries (the SDK's default backs off for over a minute).
            from azure.storage.blob import BlobServiceClient  # pylint: disable=import-outside-toplevel

            client = BlobServiceClient.from_connection_string(backend["connection_string"], retry_total=int(backend["retry_total"]))
        return ModelStore(storage=AzureBlobStorage(container_name=backend["container"], root_prefix=backend.get("prefix"), client=client))
    raise ValueError(f"unknown backend {kind}")


def sha256_file(path):
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def tree_sha256(directory):
    result = {}
    for current, _, files in os.walk(directory):
        for name in files:
            full = os.path.join(current, name)
            result[os.path.relpath(full, directory).replace(os.sep, "/")] = sha256_file(full)
    return dict(sorted(result.items()))


def onnx_linear_model():
    """y = MatMul(x, W) + b with W = [[1,2],[3,4]], b = [0.5,0.5]; x float[1,2]."""
    from onnx import TensorProto, helper  # pylint: disable=import-outside-toplevel

    graph = helper.make_graph(
        [helper.make_node("MatMul", ["x", "W"], ["xw"]), helper.make_node("Add", ["xw", "b"], ["y"])],
        "linear",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 2])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 2])],
        [
            helper.make_tensor("W", TensorProto.FLOAT, [2, 2], [1.0, 2.0, 3.0, 4.0]),
            helper.make_tensor("b", TensorProto.FLOAT, [2], [0.5, 0.5]),
        ],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    return model


def train_iris(expected_path):
    """Fits a classifier on scikit-learn's bundled iris data, converts it with skl2onnx and
    writes scikit-learn's own predictions (labels and probabilities, all 150 rows) to expected_path."""
    # pylint: disable=import-outside-toplevel
    import numpy as np
    import onnx
    import sklearn
    import skl2onnx
    from skl2onnx import to_onnx
    from sklearn.datasets import load_iris
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    iris = load_iris()
    x = iris.data.astype(np.float32)
    classifier = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000))
    classifier.fit(x, iris.target)
    model = to_onnx(classifier, x[:1], options={"zipmap": False}, target_opset={"": 17, "ai.onnx.ml": 3})
    onnx.checker.check_model(model)
    expected = {
        "features": x.tolist(),
        "labels": classifier.predict(x).astype(int).tolist(),
        "probabilities": classifier.predict_proba(x).tolist(),
        "target_names": iris.target_names.tolist(),
        "inputs": [i.name for i in model.graph.input],
        "outputs": [o.name for o in model.graph.output],
        "sklearn": sklearn.__version__,
        "skl2onnx": skl2onnx.__version__,
        "training_accuracy": float(classifier.score(x, iris.target)),
    }
    with open(expected_path, "w", encoding="utf8") as handle:
        json.dump(expected, handle)
    return model


def train_iris_pickle():
    """A scikit-learn classifier fitted on the iris data, uploaded as it is: Python modelstore
    stores it as a joblib pickle (library "sklearn"), which Node can download but not load."""
    # pylint: disable=import-outside-toplevel
    from sklearn.datasets import load_iris
    from sklearn.linear_model import LogisticRegression

    iris = load_iris()
    return LogisticRegression(max_iter=1000).fit(iris.data, iris.target)


def run_op(store, op):
    name = op["op"]
    if name == "version":
        return modelstore.__version__
    if name == "sleep":
        time.sleep(op["seconds"])
        return None
    if name == "upload":
        kwargs = {}
        model = op["model"]
        if isinstance(model, dict) and model.get("onnx_linear"):
            model = onnx_linear_model()
        elif isinstance(model, dict) and "sklearn_iris" in model:
            model = train_iris(model["sklearn_iris"])
        elif isinstance(model, dict) and model.get("sklearn_pickle"):
            model = train_iris_pickle()
        kwargs["model"] = model
        if "extra_files" in op:
            kwargs["extra_files"] = op["extra_files"]
        if "extra_metadata" in op:
            kwargs["extra_metadata"] = op["extra_metadata"]
        return store.upload(op["domain"], model_id=op.get("model_id"), **kwargs)
    if name == "create_model_state":
        return store.create_model_state(op["state"])
    if name == "set_model_state":
        return store.set_model_state(op["domain"], op["model_id"], op["state"])
    if name == "remove_model_state":
        return store.remove_model_state(op["domain"], op["model_id"], op["state"])
    if name == "delete_model":
        return store.delete_model(op["domain"], op["model_id"], skip_prompt=True)
    if name == "list_domains":
        return store.list_domains()
    if name == "list_models":
        return store.list_models(op["domain"], state_name=op.get("state"))
    if name == "list_model_states":
        return store.list_model_states()
    if name == "get_model_states":
        return store.get_model_states(op["domain"], op["model_id"])
    if name == "get_model_info":
        return store.get_model_info(op["domain"], op["model_id"])
    if name == "get_domain":
        return store.get_domain(op["domain"])
    if name == "model_exists":
        return store.model_exists(op["domain"], op["model_id"])
    if name == "delete_model_state":
        # Python passes the list of a domain's models as one model id here, so the models'
        # state copies stay (see packages/interop/test/python-behaviour.test.ts).
        return store.delete_model_state(op["state"], skip_prompt=True)
    if name == "state_exists":
        return store.storage.state_exists(op["state"])
    if name == "load":
        # Python's managers warn when code.runtime differs from this interpreter's "python:X.Y.Z".
        import warnings  # pylint: disable=import-outside-toplevel

        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            loaded = store.load(op["domain"], op["model_id"])
        return {"runtime_warnings": [str(w.message) for w in caught if issubclass(w.category, RuntimeWarning)], "loaded": str(loaded)}
    if name == "download":
        os.makedirs(op["to"], exist_ok=True)
        archive = store.download(op["to"], op["domain"], op.get("model_id"))
        return {"path": archive, "files": tree_sha256(op["to"])}
    raise ValueError(f"unknown op {name}")


def resolve(value, results):
    """"$N" stands for the model id the N-th op's upload returned."""
    if isinstance(value, str) and value.startswith("$") and value[1:].isdigit():
        return results[int(value[1:])]["ok"]["model"]["model_id"]
    return value


def main(request_path, response_path):
    with open(request_path, encoding="utf8") as handle:
        request = json.load(handle)
    store = make_store(request["backend"])
    results = []
    for op in request["ops"]:
        try:
            op = {key: resolve(value, results) for key, value in op.items()}
            results.append({"ok": run_op(store, op)})
        except Exception as exc:  # pylint: disable=broad-except
            results.append({"error": {"type": type(exc).__name__, "message": str(exc), "trace": traceback.format_exc(limit=4)}})
    with open(response_path, "w", encoding="utf8") as handle:
        json.dump(results, handle, default=str)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
