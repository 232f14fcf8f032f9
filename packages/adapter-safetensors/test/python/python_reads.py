"""What Python modelstore (0.0.82, the repo's locked venv) makes of a safetensors model
that Node stored in a file-system registry.

Usage: python python_reads.py <registry-root> <domain> <model-id> <download-dir>
Sets the model's state to "production" (Python writes the state's copy of the metadata).
Prints JSON: {"info": get_model_info(...), "models": list_models(...),
              "downloaded": {file name: sha256}, "load_error": [type, message] or null}
"""

import hashlib
import json
import os
import sys

from modelstore import ModelStore


def main(root, domain, model_id, target):
    store = ModelStore.from_file_system(root_directory=root, create_directory=False)
    info = store.get_model_info(domain, model_id)
    models = store.list_models(domain)
    folder = store.download(target, domain, model_id)
    downloaded = {}
    for name in sorted(os.listdir(folder)):
        with open(os.path.join(folder, name), "rb") as handle:
            downloaded[name] = hashlib.sha256(handle.read()).hexdigest()
    store.create_model_state("production")
    store.set_model_state(domain, model_id, "production")
    load_error = None
    try:
        store.load(domain, model_id)
    except Exception as error:  # pylint: disable=broad-except
        load_error = [type(error).__name__, str(error)]
    print(json.dumps({"info": info, "models": models, "downloaded": downloaded, "load_error": load_error}))


if __name__ == "__main__":
    main(*sys.argv[1:5])
