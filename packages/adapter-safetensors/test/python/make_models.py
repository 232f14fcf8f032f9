"""Writes the safetensors test models with Python's `safetensors` package (numpy API), and
what the tests expect of them, computed here with numpy and the json module, never by the
code under test.

Usage: python make_models.py <out-dir>

<out-dir>/single/model.safetensors         one file, many dtypes, __metadata__
<out-dir>/sharded/model-0000N-of-00002.safetensors + model.safetensors.index.json
<out-dir>/many/model.safetensors           5,000 tensors (the metadata bound)
<out-dir>/expected.json                    headers as the json module reads them, element
                                           counts and values from numpy
"""

import json
import struct
import sys
from pathlib import Path

import ml_dtypes
import numpy as np
from safetensors.numpy import load_file, save_file


def single_tensors():
    rng = np.random.default_rng(20261130)
    return {
        "dense.weight": rng.standard_normal((3, 4)).astype(np.float32),
        "dense.bias": np.array([0.5, -1.25, 3.0, 1e-3], dtype=np.float32),
        "half": np.arange(6, dtype=np.float16).reshape(2, 3) / np.float16(4),
        "brain": np.array([1.5, -2.0, 0.15625, 3.0e38, -0.0], dtype=ml_dtypes.bfloat16),
        "counts": np.array([1, -3, 2**40, 2**62 + 7], dtype=np.int64),
        "scalar": np.array(2.718281828459045, dtype=np.float64),
        "mask": np.array([True, False, True], dtype=np.bool_),
        "bytes": np.arange(7, dtype=np.uint8),
        "ids": np.array([[1, 2], [3, -4]], dtype=np.int32),
        "empty": np.zeros((0, 3), dtype=np.float32),
    }


def values(array):
    """A tensor's values as JSON: floats (bfloat16/float16 widened exactly), ints as strings."""
    flat = array.ravel()
    if array.dtype == np.bool_:
        return [bool(x) for x in flat]
    if np.issubdtype(array.dtype, np.integer):
        return [str(int(x)) for x in flat]
    return [float(x) for x in flat.astype(np.float64)]


def header_of(file):
    """The header as the json module reads it, without the code under test."""
    data = Path(file).read_bytes()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8 : 8 + n])
    return {"header_size": n, "file_size": len(data), "header": header}


def describe(file, tensors):
    parsed = header_of(file)
    loaded = load_file(str(file))
    entries = {}
    for name, array in tensors.items():
        assert loaded[name].tobytes() == array.tobytes() and loaded[name].shape == array.shape, name
        entries[name] = {
            "dtype": parsed["header"][name]["dtype"],
            "shape": list(array.shape),
            "data_offsets": parsed["header"][name]["data_offsets"],
            "parameters": int(array.size),
            "values": values(array),
            "nbytes": int(array.nbytes),
        }
    return {
        "header_size": parsed["header_size"],
        "file_size": parsed["file_size"],
        "metadata": parsed["header"].get("__metadata__"),
        "tensors": entries,
        "parameters": int(sum(a.size for a in tensors.values())),
    }


def main(out):
    out = Path(out)
    expected = {}

    single = single_tensors()
    (out / "single").mkdir(parents=True, exist_ok=True)
    save_file(single, out / "single" / "model.safetensors", metadata={"format": "np", "written_by": "modelstore-test"})
    expected["single"] = describe(out / "single" / "model.safetensors", single)

    rng = np.random.default_rng(7)
    shards = [
        {"embed.weight": rng.standard_normal((4, 3)).astype(np.float32), "layer.0.weight": rng.standard_normal((3, 3)).astype(np.float16)},
        {"layer.1.weight": rng.standard_normal((3, 3)).astype(ml_dtypes.bfloat16), "head.bias": np.array([7, -7], dtype=np.int64)},
    ]
    sharded = out / "sharded"
    sharded.mkdir(parents=True, exist_ok=True)
    weight_map = {}
    expected["sharded"] = {"files": {}, "total_size": 0}
    for i, tensors in enumerate(shards, start=1):
        name = f"model-{i:05d}-of-{len(shards):05d}.safetensors"
        save_file(tensors, sharded / name, metadata={"format": "np"})
        expected["sharded"]["files"][name] = describe(sharded / name, tensors)
        expected["sharded"]["total_size"] += int(sum(a.nbytes for a in tensors.values()))
        for tensor in tensors:
            weight_map[tensor] = name
    index = {"metadata": {"total_size": expected["sharded"]["total_size"]}, "weight_map": dict(sorted(weight_map.items()))}
    (sharded / "model.safetensors.index.json").write_text(json.dumps(index, indent=2) + "\n")
    expected["sharded"]["weight_map"] = index["weight_map"]
    expected["sharded"]["parameters"] = int(sum(a.size for s in shards for a in s.values()))

    many = {f"layers.{i:04d}.weight": np.full((2, 2), i, dtype=np.float32) for i in range(5000)}
    (out / "many").mkdir(parents=True, exist_ok=True)
    save_file(many, out / "many" / "model.safetensors", metadata={"format": "np", "note": "x" * 40000})
    parsed = header_of(out / "many" / "model.safetensors")
    expected["many"] = {
        "tensor_count": len(many),
        "parameters": int(sum(a.size for a in many.values())),
        "header_size": parsed["header_size"],
        "first_names": sorted(many)[:256],
    }

    (out / "expected.json").write_text(json.dumps(expected, indent=1))


if __name__ == "__main__":
    main(sys.argv[1])
