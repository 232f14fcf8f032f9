"""Python modelstore's Backblaze B2 storage (modelstore 0.0.82) against an S3 endpoint.

Used by b2.test.ts: the real BackblazeStorage, with MODEL_STORE_B2_ENDPOINT pointing at a
local S3 test server, writes and reads the registry the Node side reads and writes.
The storage is configured only from the environment (MODEL_STORE_B2_BUCKET,
B2_APPLICATION_KEY_ID, B2_APPLICATION_KEY, MODEL_STORE_B2_REGION, MODEL_STORE_B2_ENDPOINT,
MODEL_STORE_B2_ROOT_PREFIX), as `modelstore` CLI users configure it.

  python b2_registry.py upload <domain> <file> <model_id>   -> prints the model's metadata
  python b2_registry.py read <domain> <model_id> <dir>      -> prints info, listing, states, downloaded files
Output: one JSON document on stdout.
"""

import json
import os
import sys

import modelstore
from modelstore import ModelStore


def main() -> None:
    command = sys.argv[1]
    store = ModelStore.from_backblaze()
    if command == "upload":
        domain, file_path, model_id = sys.argv[2:5]
        meta = store.upload(domain, model_id=model_id, model=file_path)
        store.create_model_state("production")
        store.set_model_state(domain, model_id, "production")
        print(json.dumps({"version": modelstore.__version__, "metadata": meta}))
    elif command == "read":
        domain, model_id, target = sys.argv[2:5]
        info = store.get_model_info(domain, model_id)
        models = store.list_models(domain)
        downloaded = store.download(target, domain, model_id)
        files = {}
        for root, _, names in os.walk(downloaded):
            for name in names:
                full = os.path.join(root, name)
                with open(full, "rb") as file:
                    files[os.path.relpath(full, downloaded)] = file.read().decode("utf-8", "replace")
        print(json.dumps({"version": modelstore.__version__, "info": info, "models": models, "files": files}))
    else:
        sys.exit(f"unknown command {command}")


if __name__ == "__main__":
    main()
