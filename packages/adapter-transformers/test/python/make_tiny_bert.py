"""Writes a tiny feature-extraction "bert" in the Hugging Face layout that transformers.js reads.

    python make_tiny_bert.py <folder> [--sentence TEXT]
    python make_tiny_bert.py <folder> --hostile-location LOCATION

The folder gets:
  config.json              model_type "bert", architectures ["BertModel"], tiny sizes
  tokenizer.json           a WordPiece tokenizer written by the `tokenizers` package
  tokenizer_config.json    BertTokenizer settings
  onnx/model.onnx          fp32: last_hidden_state = (W[input_ids] + T[token_type_ids]) * attention_mask,
                           its weights in the external-data file onnx/model.onnx_data
  onnx/model_quantized.onnx
                           q8: the same graph on int8 weights through DequantizeLinear
  expected.json            (outside the folder when --expected is given) the token ids the
                           Python tokenizer gives for the sentence and, per variant, the
                           last_hidden_state and the mean-pooled, L2-normalised embedding,
                           computed with numpy from the same weights

With --hostile-location, onnx/model.onnx names its weights as external data at LOCATION
(e.g. ../../etc/passwd or /etc/passwd) instead, and no data file is written.
"""

import argparse
import json
import os

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper
from tokenizers import Tokenizer, decoders, normalizers, pre_tokenizers, processors
from tokenizers.models import WordPiece

HIDDEN = 8
SPECIAL = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
WORDS = ["hello", "world", "the", "model", "store", "is", "a", "tiny", "bert", "##s", "##ing", "load", ",", "!", "."]


def build_tokenizer() -> Tokenizer:
    vocab = {token: index for index, token in enumerate(SPECIAL + WORDS)}
    tokenizer = Tokenizer(WordPiece(vocab, unk_token="[UNK]", max_input_chars_per_word=100))
    tokenizer.normalizer = normalizers.BertNormalizer(lowercase=True, clean_text=True, handle_chinese_chars=True, strip_accents=None)
    tokenizer.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    cls, sep = vocab["[CLS]"], vocab["[SEP]"]
    tokenizer.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]",
        pair="[CLS] $A [SEP] $B:1 [SEP]:1",
        special_tokens=[("[CLS]", cls), ("[SEP]", sep)],
    )
    tokenizer.decoder = decoders.WordPiece(prefix="##")
    return tokenizer


def graph(name: str, weights: list, embed_nodes: list) -> onnx.GraphProto:
    """(W[input_ids] + T[token_type_ids]) * float(attention_mask)[..., None]; embed_nodes make `word_table` and `type_table`."""
    nodes = embed_nodes + [
        helper.make_node("Gather", ["word_table", "input_ids"], ["word"], axis=0),
        helper.make_node("Gather", ["type_table", "token_type_ids"], ["type"], axis=0),
        helper.make_node("Add", ["word", "type"], ["summed"]),
        helper.make_node("Cast", ["attention_mask"], ["mask_float"], to=TensorProto.FLOAT),
        # The axis is a Constant node, not an initializer: ONNX shape inference cannot read an initializer kept as external data.
        helper.make_node("Constant", [], ["last_axis"], value=numpy_helper.from_array(np.array([-1], dtype=np.int64), "last_axis_value")),
        helper.make_node("Unsqueeze", ["mask_float", "last_axis"], ["mask"]),
        helper.make_node("Mul", ["summed", "mask"], ["last_hidden_state"]),
    ]
    inputs = [helper.make_tensor_value_info(n, TensorProto.INT64, ["batch_size", "sequence_length"]) for n in ("input_ids", "attention_mask", "token_type_ids")]
    outputs = [helper.make_tensor_value_info("last_hidden_state", TensorProto.FLOAT, ["batch_size", "sequence_length", HIDDEN])]
    return helper.make_graph(nodes, name, inputs, outputs, weights)


def model(g: onnx.GraphProto) -> onnx.ModelProto:
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)], producer_name="modelstore-test")
    m.ir_version = 8
    onnx.checker.check_model(m)
    return m


def expected(ids, type_ids, mask, word, types):
    hidden = (word[ids] + types[type_ids]) * mask[:, None].astype(np.float32)
    pooled = (hidden * mask[:, None]).sum(axis=0) / mask.sum()
    pooled = pooled / np.linalg.norm(pooled)
    return hidden.astype(np.float32), pooled.astype(np.float32)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("folder")
    parser.add_argument("--sentence", default="Hello world, the tiny model store is loading!")
    parser.add_argument("--expected", help="where to write expected.json (outside the model folder)")
    parser.add_argument("--hostile-location", help="external-data location to write into onnx/model.onnx")
    args = parser.parse_args()

    folder = args.folder
    os.makedirs(os.path.join(folder, "onnx"), exist_ok=True)
    tokenizer = build_tokenizer()
    vocab_size = tokenizer.get_vocab_size()
    tokenizer.save(os.path.join(folder, "tokenizer.json"))
    with open(os.path.join(folder, "tokenizer_config.json"), "w") as f:
        json.dump(
            {
                "tokenizer_class": "BertTokenizer",
                "do_lower_case": True,
                "model_max_length": 64,
                "cls_token": "[CLS]",
                "sep_token": "[SEP]",
                "pad_token": "[PAD]",
                "unk_token": "[UNK]",
                "mask_token": "[MASK]",
            },
            f,
            indent=2,
        )
    config = {
        "model_type": "bert",
        "architectures": ["BertModel"],
        "hidden_size": HIDDEN,
        "vocab_size": vocab_size,
        "num_hidden_layers": 0,
        "num_attention_heads": 1,
        "intermediate_size": HIDDEN,
        "max_position_embeddings": 64,
        "type_vocab_size": 2,
        "pad_token_id": 0,
        "transformers.js_config": {"use_external_data_format": {"model.onnx": True}},
    }
    with open(os.path.join(folder, "config.json"), "w") as f:
        json.dump(config, f, indent=2)

    rng = np.random.default_rng(20260)
    word = rng.standard_normal((vocab_size, HIDDEN)).astype(np.float32)
    types = rng.standard_normal((2, HIDDEN)).astype(np.float32)

    # fp32, weights as external data in one file beside the model.
    fp32 = model(graph("tiny_bert", [numpy_helper.from_array(word, "word_table"), numpy_helper.from_array(types, "type_table")], []))
    fp32_path = os.path.join(folder, "onnx", "model.onnx")
    if args.hostile_location:
        for tensor in fp32.graph.initializer:
            if tensor.name != "word_table":
                continue
            tensor.ClearField("raw_data")
            tensor.data_location = TensorProto.EXTERNAL
            for key, value in (("location", args.hostile_location), ("offset", "0"), ("length", str(word.nbytes))):
                entry = tensor.external_data.add()
                entry.key, entry.value = key, value
        with open(fp32_path, "wb") as f:
            f.write(fp32.SerializeToString())
        return
    onnx.save_model(fp32, fp32_path, save_as_external_data=True, all_tensors_to_one_file=True, location="model.onnx_data", size_threshold=0)

    # q8: symmetric int8 weights per tensor, dequantised in the graph.
    word_scale = np.float32(np.abs(word).max() / 127)
    type_scale = np.float32(np.abs(types).max() / 127)
    word_q = np.clip(np.round(word / word_scale), -127, 127).astype(np.int8)
    types_q = np.clip(np.round(types / type_scale), -127, 127).astype(np.int8)
    q8_weights = [
        numpy_helper.from_array(word_q, "word_q"),
        numpy_helper.from_array(np.array(word_scale, dtype=np.float32), "word_scale"),
        numpy_helper.from_array(np.array(0, dtype=np.int8), "word_zero"),
        numpy_helper.from_array(types_q, "type_q"),
        numpy_helper.from_array(np.array(type_scale, dtype=np.float32), "type_scale"),
        numpy_helper.from_array(np.array(0, dtype=np.int8), "type_zero"),
    ]
    dequantize = [
        helper.make_node("DequantizeLinear", ["word_q", "word_scale", "word_zero"], ["word_table"]),
        helper.make_node("DequantizeLinear", ["type_q", "type_scale", "type_zero"], ["type_table"]),
    ]
    onnx.save_model(model(graph("tiny_bert_q8", q8_weights, dequantize)), os.path.join(folder, "onnx", "model_quantized.onnx"))

    if args.expected:
        encoding = tokenizer.encode(args.sentence)
        ids = np.array(encoding.ids, dtype=np.int64)
        type_ids = np.array(encoding.type_ids, dtype=np.int64)
        mask = np.array(encoding.attention_mask, dtype=np.int64)
        result = {"sentence": args.sentence, "input_ids": encoding.ids, "token_type_ids": encoding.type_ids, "attention_mask": encoding.attention_mask, "hidden_size": HIDDEN, "variants": {}}
        for dtype, (w, t) in {"fp32": (word, types), "q8": (word_q.astype(np.float32) * word_scale, types_q.astype(np.float32) * type_scale)}.items():
            hidden, pooled = expected(ids, type_ids, mask, w, t)
            result["variants"][dtype] = {"last_hidden_state": hidden.tolist(), "mean_pooled_normalized": pooled.tolist()}
        with open(args.expected, "w") as f:
            json.dump(result, f)


if __name__ == "__main__":
    main()
