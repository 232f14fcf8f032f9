"""Writes a GGUF whose header is as large as a real model's: Qwen2's vocabulary size
(151,936 tokens, 151,387 BPE merges) and one 19 MiB F16 tensor. Used to measure how many
bytes a header reader reads. Usage: python make_big_header.py <out-file>"""

import sys

import gguf
import numpy as np

N_VOCAB = 151_936
N_MERGES = 151_387

writer = gguf.GGUFWriter(sys.argv[1], "qwen2")
writer.add_name("header size probe")
writer.add_context_length(32768)
writer.add_file_type(gguf.LlamaFileType.MOSTLY_F16)
writer.add_tokenizer_model("gpt2")
writer.add_token_list([f"token-{i}" for i in range(N_VOCAB)])
writer.add_token_types([1] * N_VOCAB)
writer.add_token_merges([f"t{i} k{i}" for i in range(N_MERGES)])
writer.add_tensor("token_embd.weight", np.zeros((N_VOCAB, 64), dtype=np.float16))
writer.write_header_to_file()
writer.write_kv_data_to_file()
writer.write_tensors_to_file()
writer.close()
