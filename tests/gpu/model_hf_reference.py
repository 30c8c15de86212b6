#!/usr/bin/env python3
"""Writes Hugging Face T5ForConditionalGeneration reference outputs for tests/gpu/model_hf_parity_test.cpp.

    model_hf_reference.py OUT_DIR

For each case (OUT_DIR/<case>/): config.txt (ankh model.* keys), the HF model's named parameters
(<name>.bin, float32, shapes in params.tsv), inputs (int64 .bin), and HF's fp32 logits, encoder
hidden state and the gradients of the summed cross-entropy. The C++ test loads the same weights
into ankh's model and compares. Needs torch and transformers (the GPU machine has both).
"""
import os
import sys

import numpy as np
import torch
import transformers
from transformers import T5Config, T5ForConditionalGeneration

CASES = {
    # Ankh's architecture at a small width; lengths past max_distance exercise the far buckets.
    "ankh_gated_gelu": dict(d_model=64, num_heads=4, d_kv=16, d_ff=96, encoder_layers=3, decoder_layers=2,
                            activation="gated-gelu", relative_buckets=64, relative_max_distance=128,
                            tie_embeddings=False, enc_len=300, dec_len=41),
    "gated_silu_small_buckets": dict(d_model=48, num_heads=3, d_kv=8, d_ff=64, encoder_layers=2, decoder_layers=2,
                                     activation="gated-silu", relative_buckets=16, relative_max_distance=20,
                                     tie_embeddings=False, enc_len=60, dec_len=30),
    "relu_tied": dict(d_model=32, num_heads=2, d_kv=16, d_ff=64, encoder_layers=2, decoder_layers=1,
                      activation="relu", relative_buckets=32, relative_max_distance=128,
                      tie_embeddings=True, enc_len=40, dec_len=12),
}


def write(path, array):
    np.ascontiguousarray(array).tofile(path)


def make_case(out, name, c, seed):
    torch.manual_seed(seed)
    config = T5Config(vocab_size=144, d_model=c["d_model"], d_kv=c["d_kv"], d_ff=c["d_ff"],
                      num_layers=c["encoder_layers"], num_decoder_layers=c["decoder_layers"],
                      num_heads=c["num_heads"], relative_attention_num_buckets=c["relative_buckets"],
                      relative_attention_max_distance=c["relative_max_distance"], dropout_rate=0.0,
                      layer_norm_epsilon=1e-6, feed_forward_proj=c["activation"],
                      tie_word_embeddings=c["tie_embeddings"], decoder_start_token_id=0, pad_token_id=0,
                      eos_token_id=1, is_encoder_decoder=True)
    model = T5ForConditionalGeneration(config).float()
    model.train(False)
    tied_at_init = model.lm_head.weight.data_ptr() == model.shared.weight.data_ptr()
    if not c["tie_embeddings"] and tied_at_init:
        # transformers >= 5 ties lm_head to shared even for tie_word_embeddings=False (which then only
        # means "no d_model^-0.5 rescale"); T5 v1.1 and Ankh have their own lm_head: untie it.
        model.lm_head.weight = torch.nn.Parameter(torch.randn(144, c["d_model"]) * c["d_model"] ** -0.5)
    with torch.no_grad():  # make the norm gains matter too
        for n, p in model.named_parameters():
            if n.endswith("layer_norm.weight"):
                p.copy_(1 + 0.2 * torch.randn_like(p))
    d = os.path.join(out, name)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "config.txt"), "w") as f:
        for k in ("d_model", "num_heads", "d_kv", "d_ff", "encoder_layers", "decoder_layers", "activation",
                  "relative_buckets", "relative_max_distance", "tie_embeddings"):
            v = c[k]
            f.write(f"{k}={str(v).lower() if isinstance(v, bool) else v}\n")
    params = dict(model.named_parameters())
    with open(os.path.join(d, "params.tsv"), "w") as f:
        for n, p in params.items():
            f.write(n + "\t" + ",".join(str(s) for s in p.shape) + "\n")
            write(os.path.join(d, n + ".bin"), p.detach().float().numpy())
    print(f"{name}: {len(params)} parameters; lm_head tied to shared when built: {tied_at_init}, now: "
          f"{model.lm_head.weight.data_ptr() == model.shared.weight.data_ptr()}; "
          f"config.tie_word_embeddings={config.tie_word_embeddings}, "
          f"scale_decoder_outputs={getattr(config, 'scale_decoder_outputs', 'n/a')}")

    b, le, ld = 3, c["enc_len"], c["dec_len"]
    g = torch.Generator().manual_seed(seed + 1)
    input_ids = torch.randint(3, 28, (b, le), generator=g)
    input_ids[:, -1] = 1
    attention_mask = torch.ones(b, le, dtype=torch.long)
    attention_mask[1, le // 2:] = 0          # padding in row 1
    input_ids[1, le // 2:] = 0
    input_ids[1, le // 2 - 1] = 1
    labels = torch.randint(3, 144, (b, ld), generator=g)
    decoder_attention_mask = torch.ones(b, ld, dtype=torch.long)
    decoder_attention_mask[2, ld - 5:] = 0   # padding in row 2
    labels[2, ld - 5:] = -100
    decoder_input_ids = torch.cat([torch.zeros(b, 1, dtype=torch.long), labels[:, :-1].clamp_min(0)], 1)
    for n, t in (("input_ids", input_ids), ("attention_mask", attention_mask), ("labels", labels),
                 ("decoder_input_ids", decoder_input_ids), ("decoder_attention_mask", decoder_attention_mask)):
        write(os.path.join(d, n + ".bin"), t.numpy().astype(np.int64))
    with open(os.path.join(d, "shapes.txt"), "w") as f:
        f.write(f"{b} {le} {ld}\n")

    out_ = model(input_ids=input_ids, attention_mask=attention_mask, decoder_input_ids=decoder_input_ids,
                 decoder_attention_mask=decoder_attention_mask)
    logits = out_.logits
    loss = torch.nn.functional.cross_entropy(logits.reshape(-1, 144), labels.reshape(-1), ignore_index=-100,
                                             reduction="sum")
    loss.backward()
    write(os.path.join(d, "logits.bin"), logits.detach().numpy())
    write(os.path.join(d, "encoder_hidden.bin"), out_.encoder_last_hidden_state.detach().numpy())
    with open(os.path.join(d, "grads.tsv"), "w") as f:
        for n, p in params.items():
            if p.grad is not None:
                f.write(n + "\n")
                write(os.path.join(d, n + ".grad.bin"), p.grad.float().numpy())


def check_round_trip(out, name):
    """Does save_pretrained + from_pretrained keep an untied lm_head? (What `ankh export` relies on.)"""
    d = os.path.join(out, name)
    import tempfile
    torch.manual_seed(0)
    c = CASES[name]
    config = T5Config(vocab_size=144, d_model=c["d_model"], d_kv=c["d_kv"], d_ff=c["d_ff"],
                      num_layers=c["encoder_layers"], num_decoder_layers=c["decoder_layers"],
                      num_heads=c["num_heads"], relative_attention_num_buckets=c["relative_buckets"],
                      relative_attention_max_distance=c["relative_max_distance"], dropout_rate=0.0,
                      feed_forward_proj=c["activation"], tie_word_embeddings=False, decoder_start_token_id=0)
    model = T5ForConditionalGeneration(config)
    model.lm_head.weight = torch.nn.Parameter(torch.randn(144, c["d_model"]))
    with tempfile.TemporaryDirectory() as tmp:
        model.save_pretrained(tmp)
        import json
        saved = json.load(open(os.path.join(tmp, "config.json")))
        again = T5ForConditionalGeneration.from_pretrained(tmp)
        same = torch.equal(again.lm_head.weight, model.lm_head.weight)
        tied = again.lm_head.weight.data_ptr() == again.shared.weight.data_ptr()
    print(f"round trip (untied lm_head): saved tie_word_embeddings={saved.get('tie_word_embeddings')}, "
          f"lm_head kept: {same}, tied after load: {tied}")


def main():
    out = sys.argv[1]
    print(f"transformers {transformers.__version__}, torch {torch.__version__}")
    for i, (name, c) in enumerate(CASES.items()):
        make_case(out, name, c, 100 + i)
    try:
        check_round_trip(out, "ankh_gated_gelu")
    except Exception as e:  # diagnostic only
        print(f"round trip check failed: {e!r}")


if __name__ == "__main__":
    main()
