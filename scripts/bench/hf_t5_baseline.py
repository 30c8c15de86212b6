#!/usr/bin/env python3
"""Baseline for `ankh bench model --device cuda`: Hugging Face transformers' T5ForConditionalGeneration
training step (PyTorch eager, bf16 autocast, fp32 weights), same architecture, batch and lengths as
ankh's measure_training_throughput (forward + loss sum + backward, gradients dropped each step).

    python3 scripts/bench/hf_t5_baseline.py [--steps 10] [--batch 16] [--enc 512] [--dec 205]
Prints one Markdown row per model: tokens/s (encoder tokens, as ankh counts them)."""
import argparse
import time

import torch
from transformers import T5Config, T5ForConditionalGeneration

PRESETS = {
    "ankh-base": dict(d_model=768, num_heads=12, d_kv=64, d_ff=3072, num_layers=48, num_decoder_layers=24),
    "ankh-large": dict(d_model=1536, num_heads=16, d_kv=64, d_ff=3840, num_layers=48, num_decoder_layers=24),
}


def measure(name, args):
    config = T5Config(vocab_size=144, relative_attention_num_buckets=64, relative_attention_max_distance=128,
                      feed_forward_proj="gated-gelu", tie_word_embeddings=False, dropout_rate=0.0,
                      decoder_start_token_id=0, pad_token_id=0, eos_token_id=1, **PRESETS[name])
    model = T5ForConditionalGeneration(config).cuda().train()
    g = torch.Generator(device="cpu").manual_seed(1)
    ids = torch.randint(3, 23, (args.batch, args.enc), generator=g).cuda()
    labels = torch.randint(3, 144, (args.batch, args.dec), generator=g).cuda()
    dec_in = torch.cat([torch.zeros_like(labels[:, :1]), labels[:, :-1]], 1)
    mask = torch.ones_like(ids)

    def step():
        with torch.autocast("cuda", dtype=torch.bfloat16):
            logits = model(input_ids=ids, attention_mask=mask, decoder_input_ids=dec_in).logits
        loss = torch.nn.functional.cross_entropy(logits.float().view(-1, 144), labels.view(-1), reduction="sum")
        loss.backward()
        for p in model.parameters():
            p.grad = None

    for _ in range(3):
        step()
    torch.cuda.synchronize()
    t0 = time.perf_counter()
    for _ in range(args.steps):
        step()
    torch.cuda.synchronize()
    seconds = (time.perf_counter() - t0) / args.steps
    tokens = args.batch * args.enc / seconds
    print(f"| {name} | transformers {__import__('transformers').__version__} eager | "
          f"{args.batch} x {args.enc}/{args.dec} | {tokens / 1e3:.1f} k tokens/s | {seconds * 1e3:.1f} ms/step |",
          flush=True)
    del model
    torch.cuda.empty_cache()


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--steps", type=int, default=10)
    p.add_argument("--batch", type=int, default=16)
    p.add_argument("--enc", type=int, default=512)
    p.add_argument("--dec", type=int, default=205)
    p.add_argument("--models", default="ankh-base,ankh-large")
    args = p.parse_args()
    print("| model | implementation | batch x enc/dec | tokens/s | step |\n|---|---|---|---|---|")
    for name in args.models.split(","):
        measure(name, args)


if __name__ == "__main__":
    main()
