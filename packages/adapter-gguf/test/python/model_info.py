"""Prints what Python modelstore says of a model in a file-system registry, as JSON
(listing, get_model_info, download, and the error of its load).
Usage: python model_info.py <registry root> <domain> <model id> <download folder>"""

import json
import os
import sys

from modelstore import ModelStore

root, domain, model_id, target = sys.argv[1:5]
store = ModelStore.from_file_system(root_directory=root, create_directory=False)
info = store.get_model_info(domain, model_id)
os.makedirs(target, exist_ok=True)
archive = store.download(target, domain, model_id)
try:
    store.load(domain, model_id)
    load_error = None
except Exception as error:  # what Python's load says of a library it has no manager for
    load_error = f"{type(error).__name__}: {error}"
print(json.dumps({"models": store.list_models(domain), "model": info["model"], "files": sorted(os.listdir(archive)), "load_error": load_error}))
