#!/usr/bin/python3
"""Reference PyTorch (CPU) twin of src/model/gpt.ts, for same-run speed ratios.

Same architecture: learned position embeddings, pre-LayerNorm blocks with separate
q/k/v projections, GELU (tanh), 4x MLP, final LayerNorm, head tied to the token
embedding; AdamW(0.9, 0.95, wd 0.1) with global-norm clipping 1.0 like src/train/optim.ts.

  --mode train                 training tokens/s (forward + backward + AdamW)
  --mode decode --batch B      KV-cached greedy decoding, new tokens/s
Prints exactly one JSON line on stdout.
"""
import argparse
import json
import math
import os
import sys
import time

CONFIGS = {
    "S": dict(vocab=512, d=128, layers=4, heads=4, ctx=128, batch=16),
    "M": dict(vocab=2048, d=256, layers=6, heads=8, ctx=256, batch=8),
    "L": dict(vocab=8192, d=512, layers=8, heads=8, ctx=512, batch=16),
}


def blas_in_use():
    """Which BLAS shared object the process actually mapped (Debian's torch goes
    through the libblas.so.3 alternative, so the build config can't tell)."""
    libs = set()
    try:
        with open("/proc/self/maps") as f:
            for line in f:
                p = line.split()[-1]
                base = os.path.basename(p)
                if any(k in base for k in ("openblas", "libblas", "mkl", "blis", "atlas")):
                    libs.add(os.path.realpath(p))
    except OSError:
        pass
    names = sorted(libs)
    if any("openblas" in n for n in names):
        kind = "openblas"
    elif any("mkl" in n for n in names):
        kind = "mkl"
    elif any("blis" in n for n in names):
        kind = "blis"
    elif any("atlas" in n for n in names):
        kind = "atlas"
    elif names:
        kind = "reference"
    else:
        kind = "unknown"
    return kind, names


def build(torch, cfg):
    nn = torch.nn
    F = torch.nn.functional
    V, D, L, H, P = cfg["vocab"], cfg["d"], cfg["layers"], cfg["heads"], cfg["ctx"]
    hd = D // H

    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            self.ln1 = nn.LayerNorm(D, eps=1e-5)
            self.q = nn.Linear(D, D)
            self.k = nn.Linear(D, D)
            self.v = nn.Linear(D, D)
            self.proj = nn.Linear(D, D)
            self.ln2 = nn.LayerNorm(D, eps=1e-5)
            self.fc = nn.Linear(D, 4 * D)
            self.out = nn.Linear(4 * D, D)

        def heads(self, x, B, T):
            return x.view(B, T, H, hd).transpose(1, 2)

        def forward(self, x, mask, cache=None):
            B, T, _ = x.shape
            h = self.ln1(x)
            q = self.heads(self.q(h), B, T) * (1.0 / math.sqrt(hd))
            k = self.heads(self.k(h), B, T)
            v = self.heads(self.v(h), B, T)
            if cache is not None:
                if cache.get("k") is not None:
                    k = torch.cat([cache["k"], k], 2)
                    v = torch.cat([cache["v"], v], 2)
                cache["k"], cache["v"] = k, v
            att = torch.softmax(q @ k.transpose(-1, -2) + mask, -1)
            y = (att @ v).transpose(1, 2).reshape(B, T, D)
            x = x + self.proj(y)
            return x + self.out(F.gelu(self.fc(self.ln2(x)), approximate="tanh"))

    class GPT(nn.Module):
        def __init__(self):
            super().__init__()
            self.wte = nn.Parameter(torch.randn(V, D) * 0.02)
            self.wpe = nn.Parameter(torch.randn(P, D) * 0.02)
            self.blocks = nn.ModuleList([Block() for _ in range(L)])
            self.lnf = nn.LayerNorm(D, eps=1e-5)

        def forward(self, ids, start=0, caches=None):
            B, T = ids.shape
            x = self.wte[ids] + self.wpe[start:start + T]
            Lk = start + T
            mask = torch.full((T, Lk), -1e9, device=ids.device).triu(start + 1)
            for i, blk in enumerate(self.blocks):
                x = blk(x, mask, None if caches is None else caches[i])
            return self.lnf(x) @ self.wte.t()

    return GPT()


def sync(torch, dev):
    if dev == "cuda":
        torch.cuda.synchronize()


def train(torch, cfg, steps, warmup, dev="cpu"):
    F = torch.nn.functional
    model = build(torch, cfg).to(dev)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3, betas=(0.9, 0.95), eps=1e-8, weight_decay=0.1)
    B, T, V = cfg["batch"], cfg["ctx"], cfg["vocab"]
    g = torch.Generator().manual_seed(0)
    ids = torch.randint(0, V, (B, T), generator=g).to(dev)
    tgt = torch.randint(0, V, (B, T), generator=g).to(dev)

    def step():
        logits = model(ids)
        loss = F.cross_entropy(logits.view(B * T, V), tgt.view(B * T))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        return loss

    for _ in range(warmup):
        float(step())
    sync(torch, dev)
    t0 = time.perf_counter()
    for _ in range(steps):
        loss = step()
    float(loss)  # one read at the end, like the tfjs bench
    sync(torch, dev)
    dt = time.perf_counter() - t0
    return dict(tok_s=B * T * steps / dt, step_ms=1000 * dt / steps)


def decode(torch, cfg, batch, prompt_len, new_tokens, warmup, dev="cpu"):
    model = build(torch, cfg).to(dev).eval()
    V = cfg["vocab"]
    g = torch.Generator().manual_seed(0)
    prompt = torch.randint(0, V, (batch, prompt_len), generator=g).to(dev)

    def run(n):
        caches = [dict() for _ in model.blocks]
        logits = model(prompt, 0, caches)
        nxt = logits[:, -1].argmax(-1, keepdim=True)
        for i in range(n - 1):
            logits = model(nxt, prompt_len + i, caches)
            nxt = logits[:, -1].argmax(-1, keepdim=True)

    with torch.inference_mode():
        for _ in range(warmup):
            run(4)
        sync(torch, dev)
        t0 = time.perf_counter()
        run(new_tokens)
        sync(torch, dev)
        dt = time.perf_counter() - t0
    return dict(tok_s=batch * new_tokens / dt, prompt_len=prompt_len, new_tokens=new_tokens)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--mode", choices=["train", "decode"], default="train")
    ap.add_argument("--config", choices=list(CONFIGS), default="S")
    ap.add_argument("--steps", type=int, default=10)
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--prompt-len", type=int, default=32)
    ap.add_argument("--new-tokens", type=int, default=64)
    ap.add_argument("--device", choices=["cpu", "cuda"], default="cpu")
    ap.add_argument("--train-batch", type=int, default=0, help="training batch (default: the config's)")
    a = ap.parse_args()
    import torch

    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    if a.device == "cuda":
        # plain fp32, as tfjs-webgpu computes: no TF32 tensor-core shortcuts
        torch.backends.cuda.matmul.allow_tf32 = False
        torch.backends.cudnn.allow_tf32 = False
    cfg = dict(CONFIGS[a.config])
    if a.train_batch:
        cfg["batch"] = a.train_batch
    if a.mode == "train":
        r = train(torch, cfg, a.steps, a.warmup, a.device)
    else:
        r = decode(torch, cfg, a.batch, a.prompt_len, a.new_tokens, a.warmup, a.device)
    r.update(device=a.device)
    kind, libs = blas_in_use()
    r.update(mode=a.mode, config=a.config, threads=torch.get_num_threads(), torch=torch.__version__,
             blas=kind, blas_libs=libs, batch=(cfg["batch"] if a.mode == "train" else a.batch))
    print(json.dumps(r))


if __name__ == "__main__":
    sys.exit(main())
