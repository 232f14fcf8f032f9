"""Writes a tiny random-weight llama model as GGUF, and computes what it must generate.

Usage: python make_tiny_llama.py <out-dir>

Writes, with the `gguf` package (python/requirements-models.txt):
  <out-dir>/tiny-llama.gguf                       the model in one file
  <out-dir>/tiny-llama-split-0000i-of-00003.gguf  the same model as a 3-part split set
  <out-dir>/tiny-llama-be.gguf                    the same model, big-endian
  <out-dir>/expected.json                         header facts, the prompt's token ids and the
                                                  greedy continuation computed by numpy

The expected continuation is an independent forward pass of the same llama in numpy
(float64): token embedding, per layer RMSNorm -> grouped-query attention with llama.cpp's
RoPE (mode 0: rotates adjacent pairs) and a causal mask -> residual -> RMSNorm -> SwiGLU
feed-forward -> residual, then the final RMSNorm and the output projection; the next token is
the argmax of the last position's logits. The script refuses a model whose greedy choice
is too close to call (top-2 logit margin under MIN_MARGIN), so that float32 rounding in
llama.cpp cannot flip a token.
"""

import json
import math
import sys
from pathlib import Path

import gguf
import numpy as np

SEED = 20260101
N_EMBD = 64
N_HEAD = 4
N_HEAD_KV = 2
HEAD_DIM = N_EMBD // N_HEAD
N_LAYER = 2
N_FF = 128
N_CTX = 256
ROPE_BASE = 10000.0
RMS_EPS = 1e-5
STEPS = 8
MIN_MARGIN = 0.05
CHAT_TEMPLATE = "{% for message in messages %}<|{{ message['role'] }}|>{{ message['content'] }}</s>{% endfor %}{% if add_generation_prompt %}<|assistant|>{% endif %}"


def vocabulary():
    """SentencePiece-style ("llama") vocabulary: 3 specials, 256 byte tokens, a few pieces."""
    tokens = [("<unk>", 0.0, gguf.TokenType.UNKNOWN), ("<s>", 0.0, gguf.TokenType.CONTROL), ("</s>", 0.0, gguf.TokenType.CONTROL)]
    tokens += [(f"<0x{b:02X}>", 0.0, gguf.TokenType.BYTE) for b in range(256)]
    pieces = ["▁"] + [chr(c) for c in range(ord("a"), ord("z") + 1)] + ["▁" + w for w in ["the", "a", "model", "store", "hello", "world", "llama", "tiny", "is", "of", "to", "and"]]
    tokens += [(p, -float(i + 1), gguf.TokenType.NORMAL) for i, p in enumerate(pieces)]
    return tokens


def weights(n_vocab):
    rng = np.random.default_rng(SEED)

    def matrix(rows, cols, scale):
        return (rng.standard_normal((rows, cols)) * scale).astype(np.float32)

    def norm(n):
        return (1.0 + 0.1 * rng.standard_normal(n)).astype(np.float32)

    # numpy shapes are (out, in), as ggml's {in, out}: y = W @ x.
    tensors = {"token_embd.weight": matrix(n_vocab, N_EMBD, 1.0)}
    for i in range(N_LAYER):
        tensors[f"blk.{i}.attn_norm.weight"] = norm(N_EMBD)
        tensors[f"blk.{i}.attn_q.weight"] = matrix(N_HEAD * HEAD_DIM, N_EMBD, 0.3)
        tensors[f"blk.{i}.attn_k.weight"] = matrix(N_HEAD_KV * HEAD_DIM, N_EMBD, 0.3)
        tensors[f"blk.{i}.attn_v.weight"] = matrix(N_HEAD_KV * HEAD_DIM, N_EMBD, 0.3)
        tensors[f"blk.{i}.attn_output.weight"] = matrix(N_EMBD, N_HEAD * HEAD_DIM, 0.15)
        tensors[f"blk.{i}.ffn_norm.weight"] = norm(N_EMBD)
        tensors[f"blk.{i}.ffn_gate.weight"] = matrix(N_FF, N_EMBD, 0.2)
        tensors[f"blk.{i}.ffn_up.weight"] = matrix(N_FF, N_EMBD, 0.2)
        tensors[f"blk.{i}.ffn_down.weight"] = matrix(N_EMBD, N_FF, 0.1)
    tensors["output_norm.weight"] = norm(N_EMBD)
    tensors["output.weight"] = matrix(n_vocab, N_EMBD, 0.5)
    return tensors


def write(path, tensors, tokens, split_max_tensors=0, endianess=gguf.GGUFEndian.LITTLE):
    writer = gguf.GGUFWriter(str(path), "llama", split_max_tensors=split_max_tensors, endianess=endianess)
    writer.add_name("modelstore tiny llama")
    writer.add_context_length(N_CTX)
    writer.add_embedding_length(N_EMBD)
    writer.add_block_count(N_LAYER)
    writer.add_feed_forward_length(N_FF)
    writer.add_head_count(N_HEAD)
    writer.add_head_count_kv(N_HEAD_KV)
    writer.add_rope_dimension_count(HEAD_DIM)
    writer.add_rope_freq_base(ROPE_BASE)
    writer.add_layer_norm_rms_eps(RMS_EPS)
    writer.add_file_type(gguf.LlamaFileType.ALL_F32)
    writer.add_vocab_size(len(tokens))
    writer.add_tokenizer_model("llama")
    writer.add_token_list([t[0] for t in tokens])
    writer.add_token_scores([t[1] for t in tokens])
    writer.add_token_types([int(t[2]) for t in tokens])
    writer.add_unk_token_id(0)
    writer.add_bos_token_id(1)
    writer.add_eos_token_id(2)
    writer.add_add_bos_token(True)
    writer.add_chat_template(CHAT_TEMPLATE)
    for name, array in tensors.items():
        writer.add_tensor(name, array)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()


def rms_norm(x, w):
    return x / np.sqrt(np.mean(x * x, axis=-1, keepdims=True) + RMS_EPS) * w


def rope(x, positions):
    """llama.cpp's rope mode 0 on x of shape (tokens, heads, head_dim): rotate pairs (2i, 2i+1)."""
    half = HEAD_DIM // 2
    theta = positions[:, None] * ROPE_BASE ** (-2.0 * np.arange(half) / HEAD_DIM)  # (tokens, half)
    cos, sin = np.cos(theta)[:, None, :], np.sin(theta)[:, None, :]
    x0, x1 = x[..., 0::2], x[..., 1::2]
    out = np.empty_like(x)
    out[..., 0::2] = x0 * cos - x1 * sin
    out[..., 1::2] = x0 * sin + x1 * cos
    return out


def forward(t, ids):
    """Logits (tokens, vocab) of the whole sequence `ids`, in float64."""
    w = {k: v.astype(np.float64) for k, v in t.items()}
    n = len(ids)
    positions = np.arange(n, dtype=np.float64)
    x = w["token_embd.weight"][ids]
    mask = np.triu(np.full((n, n), -np.inf), k=1)
    group = N_HEAD // N_HEAD_KV
    for i in range(N_LAYER):
        h = rms_norm(x, w[f"blk.{i}.attn_norm.weight"])
        q = rope((h @ w[f"blk.{i}.attn_q.weight"].T).reshape(n, N_HEAD, HEAD_DIM), positions)
        k = rope((h @ w[f"blk.{i}.attn_k.weight"].T).reshape(n, N_HEAD_KV, HEAD_DIM), positions)
        v = (h @ w[f"blk.{i}.attn_v.weight"].T).reshape(n, N_HEAD_KV, HEAD_DIM)
        heads = []
        for head in range(N_HEAD):
            kv = head // group
            scores = q[:, head, :] @ k[:, kv, :].T / math.sqrt(HEAD_DIM) + mask
            scores = np.exp(scores - scores.max(axis=-1, keepdims=True))
            heads.append((scores / scores.sum(axis=-1, keepdims=True)) @ v[:, kv, :])
        x = x + np.concatenate(heads, axis=-1) @ w[f"blk.{i}.attn_output.weight"].T
        h = rms_norm(x, w[f"blk.{i}.ffn_norm.weight"])
        gate = h @ w[f"blk.{i}.ffn_gate.weight"].T
        x = x + ((gate / (1.0 + np.exp(-gate))) * (h @ w[f"blk.{i}.ffn_up.weight"].T)) @ w[f"blk.{i}.ffn_down.weight"].T
    return rms_norm(x, w["output_norm.weight"]) @ w["output.weight"].T


def main():
    out = Path(sys.argv[1])
    out.mkdir(parents=True, exist_ok=True)
    tokens = vocabulary()
    t = weights(len(tokens))
    write(out / "tiny-llama.gguf", t, tokens)
    split_max = math.ceil(len(t) / 3)
    write(out / "tiny-llama-split.gguf", t, tokens, split_max_tensors=split_max)
    # The big-endian variant of the format (header and tensor data), for the header reader.
    write(out / "tiny-llama-be.gguf", t, tokens, endianess=gguf.GGUFEndian.BIG)

    prompt = [1] + [tokens.index(next(x for x in tokens if x[0] == p)) for p in ["▁hello", "▁tiny", "▁llama"]]
    ids = list(prompt)
    generated, margins, probabilities = [], [], []
    for _ in range(STEPS):
        logits = forward(t, ids)[-1]
        order = np.argsort(logits)[::-1]
        margins.append(float(logits[order[0]] - logits[order[1]]))
        p = np.exp(logits - logits.max())
        probabilities.append(float(p[order[0]] / p.sum()))
        generated.append(int(order[0]))
        ids.append(int(order[0]))
    if min(margins) < MIN_MARGIN:
        raise SystemExit(f"greedy choice too close to call (margins {margins}): change SEED")

    expected = {
        "architecture": "llama",
        "name": "modelstore tiny llama",
        "parameter_count": int(sum(a.size for a in t.values())),
        "tensor_count": len(t),
        "context_length": N_CTX,
        "embedding_length": N_EMBD,
        "block_count": N_LAYER,
        "vocab_size": len(tokens),
        "tokenizer_model": "llama",
        "file_type": "F32",
        "chat_template": CHAT_TEMPLATE,
        "split_files": [f"tiny-llama-split-{i:05d}-of-00003.gguf" for i in range(1, 4)],
        "prompt": prompt,
        "generated": generated,
        "margins": margins,
        "probabilities": probabilities,
        "gguf_version": gguf.GGUF_VERSION,
    }
    (out / "expected.json").write_text(json.dumps(expected, indent=2))


if __name__ == "__main__":
    main()
