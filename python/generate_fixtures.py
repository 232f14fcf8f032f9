"""Writes the `python-modelstore` fixture with the real Python modelstore library.

    python python/generate_fixtures.py <output-dir>        (or: pnpm fixtures:python)

<output-dir>/registry-fs   a file-system registry written by modelstore.ModelStore.from_file_system
<output-dir>/expected.json what the Python API answered on it (list_domains, list_models, states,
                           the sha256 of every file download() extracted, ...)

The registry is written in a temporary directory and copied out, then the temporary
directory is removed: the absolute `storage.root` / `storage.path` recorded in the
metadata point to a folder that no longer exists, as for any registry that has moved.
A reader must resolve archives relative to the registry root.

Steps (each done by modelstore itself):
  churn      three raw-file uploads (64 KiB model.bin, extra files README.txt and labels.json,
             extra_metadata), about 1.1 s apart, inside a throwaway git repository (so the
             metadata has a code.git block); states production and staging created, the first
             model set to production, the third to staging, the second deleted.
  iris-onnx  one onnx.ModelProto upload with the custom id iris-v1: y = MatMul(x, W) + b with
             W = [[1,2],[3,4]], b = [0.5,0.5], opset 13, IR version 8; expected outputs computed
             by onnxruntime.
  with-dir   upload of a directory: modelstore refuses it (no manager matches); the registry
             is left unchanged. The error is recorded.
"""

import hashlib
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
from datetime import datetime, timezone

import modelstore
from modelstore import ModelStore


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


def seeded_bytes(seed, size):
    out = bytearray()
    block = seed.encode()
    while len(out) < size:
        block = hashlib.sha256(block).digest()
        out.extend(block)
    return bytes(out[:size])


def error_of(call):
    try:
        return {"result": call()}
    except Exception as exc:  # pylint: disable=broad-except
        return {"error": {"type": type(exc).__name__, "message": str(exc)}}


def onnx_linear_model():
    import onnx  # pylint: disable=import-outside-toplevel
    from onnx import TensorProto, helper  # pylint: disable=import-outside-toplevel

    graph = helper.make_graph(
        [
            helper.make_node("MatMul", ["x", "W"], ["xw"]),
            helper.make_node("Add", ["xw", "b"], ["y"]),
        ],
        "linear",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 2])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 2])],
        [
            helper.make_tensor("W", TensorProto.FLOAT, [2, 2], [1.0, 2.0, 3.0, 4.0]),
            helper.make_tensor("b", TensorProto.FLOAT, [2], [0.5, 0.5]),
        ],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)], producer_name="modelstore-fixtures")
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model


def git(cwd, *args):
    subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True)


def main(output_dir):
    os.environ["USER"] = os.environ["LOGNAME"] = "fixture-user"
    output_dir = os.path.abspath(output_dir)
    work = tempfile.mkdtemp(prefix="ms-fx-")
    cwd = os.getcwd()
    try:
        root = os.path.join(work, "registry-fs")
        store = ModelStore.from_file_system(root_directory=root, create_directory=True)
        inputs = os.path.join(work, "inputs")
        os.makedirs(inputs)
        steps = [f"ModelStore.from_file_system(root_directory=<tmp>/registry-fs, create_directory=True)"]

        # churn: raw files, uploaded from inside a throwaway git repository.
        repo = os.path.join(work, "churn-training")
        os.makedirs(repo)
        git(repo, "init", "-q", "-b", "main")
        git(repo, "config", "user.email", "fixture@example.com")
        git(repo, "config", "user.name", "fixture-user")
        with open(os.path.join(repo, "train.py"), "w", encoding="utf8") as handle:
            handle.write("print('train')\n")
        git(repo, "add", "train.py")
        git(repo, "commit", "-q", "-m", "train")
        git(repo, "remote", "add", "origin", "https://github.com/example/churn-training.git")
        readme = os.path.join(inputs, "README.txt")
        with open(readme, "w", encoding="utf8") as handle:
            handle.write("churn model: predicts whether a customer leaves\n")
        labels = os.path.join(inputs, "labels.json")
        with open(labels, "w", encoding="utf8") as handle:
            json.dump(["stays", "leaves"], handle)
        os.chdir(repo)
        upload_order = []
        input_files = {}
        for run in range(3):
            model_dir = os.path.join(inputs, f"run-{run}")
            os.makedirs(model_dir)
            model_path = os.path.join(model_dir, "model.bin")
            with open(model_path, "wb") as handle:
                handle.write(seeded_bytes(f"churn-{run}", 64 * 1024))
            extra = {"accuracy": round(0.9 + run / 100, 2), "run": run}
            meta = store.upload("churn", model=model_path, extra_files=[readme, labels], extra_metadata=extra)
            model_id = meta["model"]["model_id"]
            upload_order.append(model_id)
            input_files[model_id] = {"model.bin": sha256_file(model_path)}
            steps.append(f"upload('churn', model=<model.bin #{run}>, extra_files=[README.txt, labels.json], extra_metadata={extra}) -> {model_id}")
            time.sleep(1.1)
        os.chdir(work)
        store.create_model_state("production")
        store.create_model_state("staging")
        store.set_model_state("churn", upload_order[0], "production")
        store.set_model_state("churn", upload_order[2], "staging")
        store.delete_model("churn", upload_order[1], skip_prompt=True)
        steps += [
            "create_model_state('production'); create_model_state('staging')",
            f"set_model_state('churn', {upload_order[0]}, 'production')",
            f"set_model_state('churn', {upload_order[2]}, 'staging')",
            f"delete_model('churn', {upload_order[1]}, skip_prompt=True)",
        ]

        # iris-onnx: an onnx.ModelProto with a custom id, outside any git repository.
        time.sleep(1.1)
        onnx_model = onnx_linear_model()
        store.upload("iris-onnx", model_id="iris-v1", model=onnx_model)
        steps.append("upload('iris-onnx', model_id='iris-v1', model=<onnx.ModelProto>)")

        # with-dir: modelstore does not upload directories.
        model_dir = os.path.join(inputs, "a-directory")
        os.makedirs(model_dir)
        for name in ("a.txt", "b.txt"):
            with open(os.path.join(model_dir, name), "w", encoding="utf8") as handle:
                handle.write(name)
        with_dir = error_of(lambda: store.upload("with-dir", model=model_dir))
        steps.append("upload('with-dir', model=<directory>) -> exception")

        expected = describe(store, root, work, upload_order, input_files)
        expected["steps"] = steps
        expected["with-dir"] = {"upload": with_dir, "list_domains_contains_with_dir": "with-dir" in store.list_domains()}

        import numpy as np  # pylint: disable=import-outside-toplevel
        import onnxruntime as ort  # pylint: disable=import-outside-toplevel

        session = ort.InferenceSession(onnx_model.SerializeToString())
        x = np.array([[1.0, 1.0]], dtype=np.float32)
        (y,) = session.run(["y"], {"x": x})
        expected["domains"]["iris-onnx"]["onnx"] = {
            "graph": "y = MatMul(x, W) + b; x float[1,2]; W float[2,2] = [[1,2],[3,4]]; b float[2] = [0.5,0.5]",
            "opset": [{"domain": "", "version": 13}],
            "ir_version": 8,
            "inputs": {"x": x.tolist()},
            "expected_outputs": {"y": y.tolist()},
            "check": f"computed by onnxruntime {ort.__version__} on the model uploaded",
        }

        if os.path.exists(output_dir):
            shutil.rmtree(output_dir)
        os.makedirs(output_dir)
        shutil.copytree(root, os.path.join(output_dir, "registry-fs"))
        with open(os.path.join(output_dir, "expected.json"), "w", encoding="utf8") as handle:
            json.dump(expected, handle, indent=2)
            handle.write("\n")
    finally:
        os.chdir(cwd)
        shutil.rmtree(work, ignore_errors=True)


def describe(store, root, work, upload_order, input_files):
    """What the Python API answers on the registry, for the readers' tests to compare with."""
    states = store.list_model_states()
    expected = {
        "generator": {
            "script": "python/generate_fixtures.py",
            "modelstore_version": modelstore.__version__,
            "python": sys.version.split()[0],
            "generated_utc": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "local_timezone": time.strftime("%Z"),
            "registry_root_note": "written in a temporary directory that was removed: storage.root / storage.path point there",
        },
        "list_domains": store.list_domains(),
        "list_model_states": states,
        "domains": {},
    }
    downloads = os.path.join(work, "downloads")
    for domain in expected["list_domains"]:
        ids = store.list_models(domain)
        facts = {
            "list_models": ids,
            "list_models_by_state": {state: store.list_models(domain, state_name=state) for state in states},
            "latest_model_id": store.get_domain(domain)["model"]["model_id"],
            "models": {},
        }
        for model_id in ids:
            info = store.get_model_info(domain, model_id)
            target = os.path.join(downloads, domain, model_id)
            os.makedirs(target)
            store.download(target, domain, model_id)
            archive = os.path.join(root, os.path.relpath(info["storage"]["path"], info["storage"]["root"]))
            with tarfile.open(archive) as tar:
                members = [{"name": m.name, "type": "file" if m.isfile() else "other", "size": m.size, "mode": oct(m.mode)} for m in tar.getmembers()]
            facts["models"][model_id] = {
                "get_model_states": store.get_model_states(domain, model_id),
                "model_exists": store.model_exists(domain, model_id),
                "model_type": info["model"]["model_type"],
                "extra": info.get("extra"),
                "code_created": info["code"]["created"],
                "archive_relpath": os.path.relpath(archive, root),
                "archive_sha256": sha256_file(archive),
                "archive_members": members,
                "files_sha256": tree_sha256(target),
            }
        latest = os.path.join(downloads, domain, "latest")
        os.makedirs(latest)
        store.download(latest, domain)
        facts["download_without_id_files_sha256"] = tree_sha256(latest)
        if domain == "churn":
            deleted = upload_order[1]
            facts["upload_order"] = upload_order
            facts["input_files_sha256"] = input_files
            facts["deleted"] = {
                "model_id": deleted,
                "get_model_info": error_of(lambda: store.get_model_info(domain, deleted)),
                "model_exists": error_of(lambda: store.model_exists(domain, deleted)),
            }
        expected["domains"][domain] = facts
    expected["registry_files_sha256"] = tree_sha256(root)
    return expected


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: python generate_fixtures.py <output-dir>")
    main(sys.argv[1])
