#!/usr/bin/env python3
"""Baseline for ankh's GPU training speed: Hugging Face transformers' T5ForConditionalGeneration
training step (bf16 autocast, fp32 weights), same architecture, batch and lengths as ankh's
(forward + summed cross-entropy + backward, and with --optimizer adafactor an Adafactor step as
ankh's defaults take it: lr 1e-3, no relative step, no parameter scaling).

    python3 scripts/bench/hf_t5_baseline.py [--steps 10] [--batch 16] [--enc 512] [--dec 205]
        [--models ankh-base,ankh-large] [--impl eager,sdpa,compile] [--optimizer none|adafactor]
        [--json OUT.json] [--budget SECONDS]

Implementations: eager (attn_implementation="eager"), sdpa (attn_implementation="sdpa"; a row says
so when this transformers' T5 refuses it) and compile (torch.compile of the fastest of those measured before it).
Prints one Markdown row per model and implementation: tokens/s (encoder tokens, as ankh counts
them). --json writes {model: {impl: tokens_per_s or null}}, adding to what the file already holds
(so a later call's compile row sits beside the eager and sdpa rows, and compiles the fastest of
them). --budget skips what would not fit."""
import argparse
import json
import os
import time

import torch
import transformers
from transformers import T5Config, T5ForConditionalGeneration

PRESETS = {
    "ankh-base": dict(d_model=768, num_heads=12, d_kv=64, d_ff=3072, num_layers=48, num_decoder_layers=24),
    "ankh-large": dict(d_model=1536, num_heads=16, d_kv=64, d_ff=3840, num_layers=48, num_decoder_layers=24),
}


def build(name, impl):
    config = T5Config(vocab_size=144, relative_attention_num_buckets=64, relative_attention_max_distance=128,
                      feed_forward_proj="gated-gelu", tie_word_embeddings=False, dropout_rate=0.0,
                      decoder_start_token_id=0, pad_token_id=0, eos_token_id=1, **PRESETS[name])
    with torch.device("cuda"):  # initialised on the GPU: a CPU init of ankh-large takes longer than its timing
        model = T5ForConditionalGeneration._from_config(config, attn_implementation=impl)
    return model.cuda().train()


def make_optimizer(kind, model):
    if kind == "none":
        return None
    try:
        from transformers.optimization import Adafactor
        return Adafactor(model.parameters(), lr=1e-3, relative_step=False, scale_parameter=False, warmup_init=False)
    except ImportError:  # transformers without its Adafactor: PyTorch's own
        return torch.optim.Adafactor(model.parameters(), lr=1e-3)


def measure(name, impl, args, compiled_impl):
    """tokens/s of one model and implementation, or raises. compile wraps `compiled_impl`."""
    model = build(name, compiled_impl if impl == "compile" else impl)
    optimizer = make_optimizer(args.optimizer, model)
    g = torch.Generator(device="cpu").manual_seed(1)
    ids = torch.randint(3, 23, (args.batch, args.enc), generator=g).cuda()
    labels = torch.randint(3, 144, (args.batch, args.dec), generator=g).cuda()
    dec_in = torch.cat([torch.zeros_like(labels[:, :1]), labels[:, :-1]], 1)
    mask = torch.ones_like(ids)
    forward = torch.compile(model) if impl == "compile" else model

    def step():
        with torch.autocast("cuda", dtype=torch.bfloat16):
            logits = forward(input_ids=ids, attention_mask=mask, decoder_input_ids=dec_in).logits
        loss = torch.nn.functional.cross_entropy(logits.float().view(-1, 144), labels.view(-1), reduction="sum")
        loss.backward()
        if optimizer is not None:
            optimizer.step()
        for p in model.parameters():
            p.grad = None

    try:
        for _ in range(3):
            step()
        torch.cuda.synchronize()
        t0 = time.perf_counter()
        for _ in range(args.steps):
            step()
        torch.cuda.synchronize()
        seconds = (time.perf_counter() - t0) / args.steps
    finally:
        del model, optimizer, forward
        torch.cuda.empty_cache()
    return args.batch * args.enc / seconds, seconds


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--steps", type=int, default=10)
    p.add_argument("--batch", type=int, default=16)
    p.add_argument("--enc", type=int, default=512)
    p.add_argument("--dec", type=int, default=205)
    p.add_argument("--models", default="ankh-base,ankh-large")
    p.add_argument("--impl", default="eager")
    p.add_argument("--optimizer", choices=["none", "adafactor"], default="none")
    p.add_argument("--json", help="add {model: {impl: tokens_per_s or null}} to this file")
    p.add_argument("--budget", type=float, default=0, help="seconds; skip what would start after it")
    args = p.parse_args()
    start = time.perf_counter()
    results = {}
    if args.json and os.path.exists(args.json):
        with open(args.json) as f:
            results = json.load(f)
    print(f"transformers {transformers.__version__}, torch {torch.__version__}, optimizer {args.optimizer}")
    print("| model | implementation | batch x enc/dec | tokens/s | step |\n|---|---|---|---|---|", flush=True)
    for name in args.models.split(","):
        results.setdefault(name, {})
        for impl in args.impl.split(","):
            if args.budget and time.perf_counter() - start > args.budget:
                print(f"| {name} | {impl} | skipped: --budget {args.budget:.0f} s spent | | |", flush=True)
                results[name][impl] = None
                continue
            try:
                measured = {k: v for k, v in results[name].items() if v and k != "compile"}
                fastest = max(measured, key=measured.get) if measured else "eager"
                tokens, seconds = measure(name, impl, args, fastest)
            except Exception as e:  # an implementation this transformers refuses is a result too
                print(f"| {name} | {impl} | failed: {type(e).__name__}: {str(e).splitlines()[0][:160]} | | |", flush=True)
                results[name][impl] = None
                continue
            results[name][impl] = tokens
            print(f"| {name} | transformers {transformers.__version__} {impl} | {args.batch} x {args.enc}/{args.dec} | "
                  f"{tokens / 1e3:.1f} k tokens/s | {seconds * 1e3:.1f} ms/step |", flush=True)
        if args.json:
            with open(args.json, "w") as f:
                json.dump(results, f, indent=1)


if __name__ == "__main__":
    main()
