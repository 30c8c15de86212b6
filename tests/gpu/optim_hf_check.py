# trainer/optim against the references on the same inputs, on CUDA: Adafactor against Hugging
# Face's transformers.optimization.Adafactor (three option sets), AdamW against torch.optim.AdamW
# (decay/no-decay groups as exempt_from_weight_decay), clip_grad_norm against
# torch.nn.utils.clip_grad_norm_ and an fp64 norm; then PyTorch's own optimizers timed on
# ankh-base for context. Run by tests/gpu/optim_device_check.sh:
#   python3 tests/gpu/optim_hf_check.py DIR DRIVER
import os, subprocess, sys, time
import numpy as np
import torch
from transformers.optimization import Adafactor

d, driver = sys.argv[1], sys.argv[2]
os.makedirs(d, exist_ok=True)
dev = "cuda"
steps = 10
shapes = [("shared.weight", (144, 64)),
          ("encoder.block.0.layer.0.SelfAttention.q.weight", (64, 64)),
          ("encoder.block.0.layer.0.SelfAttention.k.weight", (64, 64)),
          ("encoder.block.0.layer.0.SelfAttention.v.weight", (64, 64)),
          ("encoder.block.0.layer.0.SelfAttention.relative_attention_bias.weight", (32, 4)),
          ("encoder.block.0.layer.0.layer_norm.weight", (64,)),
          ("encoder.block.0.layer.1.DenseReluDense.wi_0.weight", (128, 64)),
          ("encoder.block.0.layer.1.layer_norm.weight", (64,)),
          ("encoder.final_layer_norm.weight", (64,)),
          ("lm_head.weight", (144, 64))]
g = torch.Generator().manual_seed(0)
with open(f"{d}/meta.txt", "w") as f:
    f.write(f"steps {steps}\n")
    for i, (n, s) in enumerate(shapes):
        f.write(f"{n} {len(s)} {' '.join(map(str, s))}\n")
P = [torch.randn(s, generator=g) if len(s) > 1 else 1 + 0.1 * torch.randn(s, generator=g) for _, s in shapes]
G = [[torch.randn(s, generator=g) * (torch.linspace(0.1, 3, s[0]).unsqueeze(1) if len(s) > 1 else 1) for _, s in shapes]
     for t in range(steps)]
for i, p in enumerate(P):
    p.numpy().astype(np.float32).tofile(f"{d}/p_{i}.bin")
    for t in range(steps):
        G[t][i].numpy().astype(np.float32).tofile(f"{d}/g_{i}_{t + 1}.bin")

r = subprocess.run([driver, "parity", d], capture_output=True, text=True)
print(r.stdout, r.stderr)
assert r.returncode == 0

def groups(params, wd):
    exempt = [len(s) < 2 or "norm" in n for n, s in shapes]
    return [{"params": [p for p, e in zip(params, exempt) if not e], "weight_decay": wd},
            {"params": [p for p, e in zip(params, exempt) if e], "weight_decay": 0.0}]

def reference(variant):
    params = [p.clone().to(dev).requires_grad_(True) for p in P]
    if variant == "adafactor_ankh":
        opt = Adafactor(params, lr=1e-2, scale_parameter=False, relative_step=False, warmup_init=False)
    elif variant == "adafactor_hf":
        opt = Adafactor(params, lr=None, scale_parameter=True, relative_step=True, warmup_init=False)
    elif variant == "adafactor_mom_wd":
        opt = Adafactor(groups(params, 0.01), lr=1e-2, beta1=0.9, scale_parameter=True, relative_step=False)
    elif variant == "adamw":
        opt = torch.optim.AdamW(groups(params, 0.1), lr=1e-2, betas=(0.9, 0.98), eps=1e-8)
    for t in range(1, steps + 1):
        for p, gr in zip(params, G[t - 1]):
            p.grad = gr.to(dev)
        if variant != "adafactor_hf":
            for grp in opt.param_groups:
                grp["lr"] = 1e-2 * (0.5 + t / 10.0)
        opt.step()
    return [p.detach().cpu().numpy() for p in params]

ok = True
for v in ["adafactor_ankh", "adafactor_hf", "adafactor_mom_wd", "adamw"]:
    ref = reference(v)
    worst = 0.0
    moved = 0.0
    for i, (n, s) in enumerate(shapes):
        ours = np.fromfile(f"{d}/out_{v}_{i}.bin", dtype=np.float32).reshape(s)
        worst = max(worst, float(np.max(np.abs(ours - ref[i]) / np.maximum(np.abs(ref[i]), 1e-3))))
        moved = max(moved, float(np.max(np.abs(ref[i] - P[i].numpy()))))
    good = worst < 2e-5
    ok &= good
    print(f"{v:18s} max relative difference to reference over {steps} steps: {worst:.2e} (params moved up to {moved:.3f}) {'OK' if good else 'FAIL'}")

grads = [G[0][i].clone().to(dev) for i in range(len(shapes))]
ps = [torch.nn.Parameter(torch.zeros_like(gr)) for gr in grads]
for p, gr in zip(ps, grads):
    p.grad = gr.clone()
ref_norm = float(torch.nn.utils.clip_grad_norm_(ps, 0.5))
our_norm = float(open(f"{d}/clip_norm.txt").read())
bf16_norm = float(open(f"{d}/clip_norm_bf16.txt").read())
worst = max(float(np.max(np.abs(np.fromfile(f"{d}/clip_{i}.bin", dtype=np.float32).reshape(s) - ps[i].grad.cpu().numpy())))
            for i, (n, s) in enumerate(shapes))
exact = float(np.sqrt(sum(float((G[0][i].double() ** 2).sum()) for i in range(len(shapes)))))
print(f"clip: our norm {our_norm:.9f}, torch {ref_norm:.9f}, fp64 {exact:.9f}, bf16 grads {bf16_norm:.6f}; "
      f"max |clipped grad difference| {worst:.2e}")
ok &= abs(our_norm - exact) / exact < 1e-6 and worst < 1e-6 and abs(bf16_norm - exact) / exact < 1e-2

# Python-side timings on ankh-base shapes for context (fused AdamW, HF Adafactor).
def t5(dm, h, dkv, dff, enc, dec):
    s = [(144, dm)]
    for stack, layers in ((0, enc), (1, dec)):
        for b in range(layers):
            for _ in range(2 if stack else 1):
                s += [(h * dkv, dm)] * 3 + [(dm, h * dkv), (dm,)]
                if b == 0 and _ == 0: s.append((64, h))
            s += [(dff, dm)] * 2 + [(dm, dff), (dm,)]
        s.append((dm,))
    s.append((144, dm))
    return s

def time_opt(make, params, reps=10):
    opt = make(params)
    for _ in range(3): opt.step()
    torch.cuda.synchronize(); t0 = time.perf_counter()
    for _ in range(reps): opt.step()
    torch.cuda.synchronize()
    return (time.perf_counter() - t0) / reps * 1e3

params = [torch.nn.Parameter(torch.randn(s, device=dev) * 0.02) for s in t5(768, 12, 64, 3072, 48, 24)]
for p in params: p.grad = torch.randn_like(p) * 1e-3
print(f"python ankh-base: {sum(p.numel() for p in params)} parameters")
for name, make in [("torch AdamW foreach", lambda ps: torch.optim.AdamW(ps, lr=1e-4, foreach=True)),
                   ("torch AdamW fused", lambda ps: torch.optim.AdamW(ps, lr=1e-4, fused=True)),
                   ("HF Adafactor (explicit lr)", lambda ps: Adafactor(ps, lr=1e-3, relative_step=False, scale_parameter=False))]:
    print(f"python {name}: {time_opt(make, params):.2f} ms/step")
print("ALL OK" if ok else "SOME FAILED")
sys.exit(0 if ok else 1)
