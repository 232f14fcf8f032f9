"""The benchmark's Python peers: one upload and one download of the same file through
Python modelstore 0.0.82 or MLflow, in this process, on the file system or on MinIO.

Usage: python peers.py <scenario> <json arguments>
Prints one JSON line: {"uploadSeconds", "downloadSeconds", "downloaded" (the path of the
downloaded copy of the file, for the caller to verify), "importSeconds" (importing the
library, not counted in the other two), "peakRssBytes" (ru_maxrss, KiB on Linux, x 1024)}.

Run by bench/run.mjs with the venv's python: modelstore-* with .cache/python/venv
(python/requirements.txt), mlflow-* with .cache/python/venv-bench
(python/requirements-bench.txt). Arguments: file (the model file), work (a fresh folder
of this run's own), and for MinIO endpoint (http://host:port), accessKeyId,
secretAccessKey, bucket, prefix.
"""

import json
import logging
import os
import resource
import sys
import time

scenario = sys.argv[1]
args = json.loads(sys.argv[2])
file_name = os.path.basename(args["file"])
work = args["work"]
logging.disable(logging.CRITICAL)


def timed(action):
    started = time.perf_counter()
    result = action()
    return time.perf_counter() - started, result


def modelstore_roundtrip(make_store):
    import_seconds, _ = timed(lambda: __import__("modelstore"))
    from modelstore import ModelStore

    store = make_store(ModelStore)
    upload_seconds, meta = timed(lambda: store.upload("bench", model=args["file"]))
    model_id = meta["model"]["model_id"]
    out = os.path.join(work, "modelstore-out")
    os.makedirs(out)
    download_seconds, _ = timed(lambda: store.download(out, "bench", model_id))
    archive = meta["storage"].get("path")
    return {
        "archiveBytes": os.path.getsize(archive) if archive and os.path.isfile(archive) else None,
        "uploadSeconds": upload_seconds,
        "downloadSeconds": download_seconds,
        "downloaded": os.path.join(out, file_name),
        "importSeconds": import_seconds,
    }


def mlflow_roundtrip(artifact_location):
    # MLflow 3 refuses the file tracking store unless asked; it is the store that needs no
    # database or server, and the artifact logging measured here does not depend on it.
    os.environ["MLFLOW_ALLOW_FILE_STORE"] = "true"
    import_seconds, _ = timed(lambda: __import__("mlflow"))
    import mlflow
    import mlflow.artifacts

    mlflow.set_tracking_uri("file:" + os.path.join(work, "mlruns"))
    experiment_id = mlflow.create_experiment("bench", artifact_location=artifact_location)

    def upload():
        with mlflow.start_run(experiment_id=experiment_id) as run:
            mlflow.log_artifact(args["file"])
        return run.info.run_id

    upload_seconds, run_id = timed(upload)
    out = os.path.join(work, "mlflow-out")
    os.makedirs(out)
    download_seconds, downloaded = timed(lambda: mlflow.artifacts.download_artifacts(run_id=run_id, artifact_path=file_name, dst_path=out))
    return {
        "uploadSeconds": upload_seconds,
        "downloadSeconds": download_seconds,
        "downloaded": downloaded,
        "importSeconds": import_seconds,
    }


def minio_environment():
    # boto3 (MLflow's S3 artifact repository) reads these; nothing from ~/.aws.
    os.environ.update(
        {
            "MLFLOW_S3_ENDPOINT_URL": args["endpoint"],
            "AWS_ACCESS_KEY_ID": args["accessKeyId"],
            "AWS_SECRET_ACCESS_KEY": args["secretAccessKey"],
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_CONFIG_FILE": os.devnull,
            "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
            "AWS_EC2_METADATA_DISABLED": "true",
        }
    )


def modelstore_fs():
    root = os.path.join(work, "registry")
    return modelstore_roundtrip(lambda ModelStore: ModelStore.from_file_system(root, create_directory=True))


def modelstore_minio():
    # modelstore's MinIOStorage takes host:port (minio-py's endpoint) and secure=False for http.
    endpoint = args["endpoint"].removeprefix("http://")
    return modelstore_roundtrip(
        lambda ModelStore: ModelStore.from_minio(
            endpoint=endpoint,
            access_key=args["accessKeyId"],
            secret_key=args["secretAccessKey"],
            bucket_name=args["bucket"],
            root_prefix=args["prefix"],
            secure=False,
        )
    )


def mlflow_fs():
    return mlflow_roundtrip(os.path.join(work, "mlartifacts"))


def mlflow_minio():
    minio_environment()
    return mlflow_roundtrip(f"s3://{args['bucket']}/{args['prefix']}")


scenarios = {
    "modelstore-fs": modelstore_fs,
    "modelstore-minio": modelstore_minio,
    "mlflow-fs": mlflow_fs,
    "mlflow-minio": mlflow_minio,
}

result = scenarios[scenario]()
result["peakRssBytes"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
print(json.dumps(result), flush=True)
