"""Python modelstore writes a file system registry the CLI tests read.

  python fs_registry.py <root> <domain> <file> <model_id> [<state>]
Uploads <file> as <model_id> with Python modelstore's file system storage under <root>
(the folder that holds operatorai-model-store), puts it in <state> when given, and
prints the stored metadata as one JSON document on stdout.
"""

import json
import sys

from modelstore import ModelStore


def main() -> None:
    root, domain, file_path, model_id = sys.argv[1:5]
    store = ModelStore.from_file_system(root_directory=root, create_directory=True)
    meta = store.upload(domain, model_id=model_id, model=file_path)
    if len(sys.argv) > 5:
        store.create_model_state(sys.argv[5])
        store.set_model_state(domain, model_id, sys.argv[5])
    print(json.dumps(meta))


if __name__ == "__main__":
    main()
