#!/usr/bin/python3
"""The PyTorch eager side of the training benchmark: what a user of the Python stack runs.

Reads what `tunebench-cli bench --dump DIR` wrote (DIR/<method>/: batches.safetensors,
initial.safetensors, run.json; the model folder named in run.json), trains the same Llama-style
model on the same batches from the same starting weights with torch.optim.AdamW, and prints,
per method, both sides' tokens/s and model-FLOPs utilisation against the fp32 matmul peak
tunebench measured in the same run. Fails (exit 1) when a loss of the first 20 steps differs by
more than 1e-4 from tunebench's.

The model is written here from the Llama paper / transformers' modelling code (RMSNorm, rotary
embeddings, grouped-query attention, SwiGLU MLP); LoRA as PEFT applies it (B·A·x·alpha/r added
to frozen linear layers). Debian's python3-torch; nothing else.

Usage: eager_reference.py DUMP_DIR [--methods full,lora,freeze] [--tolerance 1e-4]
"""
import argparse
import json
import math
import os
import re
import struct
import sys
import time

import torch
from torch import nn
import torch.nn.functional as F

DTYPES = {"F32": torch.float32, "F16": torch.float16, "BF16": torch.bfloat16,
          "I64": torch.int64, "I32": torch.int32, "U8": torch.uint8, "BOOL": torch.bool}


def read_safetensors(path):
    """The tensors of a .safetensors file by name (the format is 8 bytes of header length,
    a JSON header with dtype/shape/data_offsets, then the raw little-endian data)."""
    with open(path, "rb") as f:
        blob = f.read()
    (length,) = struct.unpack("<Q", blob[:8])
    header = json.loads(blob[8:8 + length])
    start = 8 + length
    tensors = {}
    for name, entry in header.items():
        if name == "__metadata__":
            continue
        begin, end = entry["data_offsets"]
        data = bytearray(blob[start + begin:start + end])
        flat = torch.frombuffer(data, dtype=DTYPES[entry["dtype"]]) if data else \
            torch.empty(0, dtype=DTYPES[entry["dtype"]])
        tensors[name] = flat.reshape(entry["shape"]).clone()
    return tensors


class RmsNorm(nn.Module):
    def __init__(self, dim, eps):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(dim))
        self.eps = eps

    def forward(self, x):
        x32 = x.float()
        return self.weight * (x32 * torch.rsqrt(x32.pow(2).mean(-1, keepdim=True) + self.eps))


def rotate_half(x):
    half = x.shape[-1] // 2
    return torch.cat((-x[..., half:], x[..., :half]), dim=-1)


class Attention(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.heads = c["num_attention_heads"]
        self.kv_heads = c.get("num_key_value_heads") or self.heads
        self.head_dim = c.get("head_dim") or c["hidden_size"] // self.heads
        bias = c.get("attention_bias", False)
        self.q_proj = nn.Linear(c["hidden_size"], self.heads * self.head_dim, bias=bias)
        self.k_proj = nn.Linear(c["hidden_size"], self.kv_heads * self.head_dim, bias=bias)
        self.v_proj = nn.Linear(c["hidden_size"], self.kv_heads * self.head_dim, bias=bias)
        self.o_proj = nn.Linear(self.heads * self.head_dim, c["hidden_size"], bias=bias)

    def forward(self, x, cos, sin, mask):
        b, t, _ = x.shape
        q = self.q_proj(x).view(b, t, self.heads, self.head_dim).transpose(1, 2)
        k = self.k_proj(x).view(b, t, self.kv_heads, self.head_dim).transpose(1, 2)
        v = self.v_proj(x).view(b, t, self.kv_heads, self.head_dim).transpose(1, 2)
        q = q * cos + rotate_half(q) * sin
        k = k * cos + rotate_half(k) * sin
        groups = self.heads // self.kv_heads
        if groups > 1:
            k = k.repeat_interleave(groups, dim=1)
            v = v.repeat_interleave(groups, dim=1)
        scores = torch.matmul(q, k.transpose(2, 3)) / math.sqrt(self.head_dim) + mask
        weights = torch.softmax(scores, dim=-1, dtype=torch.float32).to(q.dtype)
        out = torch.matmul(weights, v).transpose(1, 2).reshape(b, t, -1)
        return self.o_proj(out)


class Mlp(nn.Module):
    def __init__(self, c):
        super().__init__()
        bias = c.get("mlp_bias", False)
        self.gate_proj = nn.Linear(c["hidden_size"], c["intermediate_size"], bias=bias)
        self.up_proj = nn.Linear(c["hidden_size"], c["intermediate_size"], bias=bias)
        self.down_proj = nn.Linear(c["intermediate_size"], c["hidden_size"], bias=bias)

    def forward(self, x):
        return self.down_proj(F.silu(self.gate_proj(x)) * self.up_proj(x))


class Layer(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.input_layernorm = RmsNorm(c["hidden_size"], c.get("rms_norm_eps", 1e-6))
        self.self_attn = Attention(c)
        self.post_attention_layernorm = RmsNorm(c["hidden_size"], c.get("rms_norm_eps", 1e-6))
        self.mlp = Mlp(c)

    def forward(self, x, cos, sin, mask):
        x = x + self.self_attn(self.input_layernorm(x), cos, sin, mask)
        return x + self.mlp(self.post_attention_layernorm(x))


class Backbone(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.embed_tokens = nn.Embedding(c["vocab_size"], c["hidden_size"])
        self.layers = nn.ModuleList([Layer(c) for _ in range(c["num_hidden_layers"])])
        self.norm = RmsNorm(c["hidden_size"], c.get("rms_norm_eps", 1e-6))


class LlamaForCausalLM(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.config = c
        self.model = Backbone(c)
        self.tied = c.get("tie_word_embeddings", False)
        if not self.tied:
            self.lm_head = nn.Linear(c["hidden_size"], c["vocab_size"], bias=False)
        heads = c["num_attention_heads"]
        head_dim = c.get("head_dim") or c["hidden_size"] // heads
        theta = c.get("rope_theta", 10000.0)
        self.inv_freq = 1.0 / (theta ** (torch.arange(0, head_dim, 2, dtype=torch.float32) / head_dim))

    def forward(self, input_ids, labels, attention_mask=None, position_ids=None):
        b, t = input_ids.shape
        x = self.model.embed_tokens(input_ids)
        if position_ids is None:
            if attention_mask is None:
                position_ids = torch.arange(t).unsqueeze(0).expand(b, t)
            else:
                position_ids = (attention_mask.long().cumsum(-1) - 1).masked_fill(attention_mask == 0, 1)
        freqs = position_ids.float().unsqueeze(-1) * self.inv_freq
        emb = torch.cat((freqs, freqs), dim=-1)
        cos, sin = emb.cos().unsqueeze(1), emb.sin().unsqueeze(1)
        allowed = torch.ones(t, t, dtype=torch.bool).tril().view(1, 1, t, t)
        if attention_mask is not None:
            allowed = allowed & (attention_mask != 0).view(b, 1, 1, t)
        mask = torch.zeros(allowed.shape).masked_fill(~allowed, torch.finfo(torch.float32).min)
        for layer in self.model.layers:
            x = layer(x, cos, sin, mask)
        x = self.model.norm(x)
        logits = F.linear(x, self.model.embed_tokens.weight) if self.tied else self.lm_head(x)
        return F.cross_entropy(logits[:, :-1].float().reshape(-1, logits.shape[-1]),
                               labels[:, 1:].reshape(-1), ignore_index=-100)


class LoraLinear(nn.Module):
    """A frozen linear layer plus B·A (PEFT's LoRA): y = W·x + (alpha/r)·B·A·x."""

    def __init__(self, base, a, b, scale):
        super().__init__()
        self.base = base
        self.lora_A = nn.Linear(a.shape[1], a.shape[0], bias=False)
        self.lora_B = nn.Linear(b.shape[1], b.shape[0], bias=False)
        with torch.no_grad():
            self.lora_A.weight.copy_(a)
            self.lora_B.weight.copy_(b)
        self.scale = scale

    def forward(self, x):
        return self.base(x) + self.lora_B(self.lora_A(x)) * self.scale


def build(run, method_dir):
    folder = run["model"]
    with open(os.path.join(folder, "config.json")) as f:
        config = json.load(f)
    model = LlamaForCausalLM(config)
    weights = read_safetensors(os.path.join(folder, "model.safetensors"))
    missing, unexpected = model.load_state_dict(weights, strict=False)
    if missing or [u for u in unexpected if "rotary" not in u]:
        sys.exit(f"eager_reference: weights do not match the model: missing {missing}, "
                 f"unexpected {unexpected}")
    for p in model.parameters():
        p.requires_grad_(False)
    initial = read_safetensors(os.path.join(method_dir, "initial.safetensors"))
    scale = run["lora_alpha"] / (math.sqrt(run["lora_rank"]) if run["use_rslora"] else run["lora_rank"])
    trainable = []  # (name, parameter) in tunebench's order (its optimizer's order)
    lora_pairs = {}
    for name, tensor in initial.items():
        match = re.match(r"(.*)\.lora_([AB])\.weight$", name)
        if match:
            lora_pairs.setdefault(match.group(1), {})[match.group(2)] = tensor
            continue
        parameter = model.get_parameter(name)
        with torch.no_grad():
            parameter.copy_(tensor)
        parameter.requires_grad_(True)
        trainable.append((name, parameter))
    for module_name, pair in lora_pairs.items():
        parent_name, _, child = module_name.rpartition(".")
        parent = model.get_submodule(parent_name)
        wrapped = LoraLinear(getattr(parent, child), pair["A"], pair["B"], scale)
        setattr(parent, child, wrapped)
    by_name = dict(model.named_parameters())
    for name in initial:
        match = re.match(r"(.*)\.lora_([AB])\.weight$", name)
        if match:
            trainable.append((name, by_name[name]))
    return model, trainable


def no_decay(name):
    lower = name.lower()
    return name.endswith("bias") or "norm" in lower


def train(run, method_dir, threads):
    torch.set_num_threads(threads)
    model, trainable = build(run, method_dir)
    groups = [{"params": [p for n, p in trainable if not no_decay(n)], "weight_decay": run["weight_decay"]},
              {"params": [p for n, p in trainable if no_decay(n)], "weight_decay": 0.0}]
    optimizer = torch.optim.AdamW(groups, lr=run["learning_rate"],
                                  betas=(run["adam_beta1"], run["adam_beta2"]), eps=run["adam_epsilon"])
    batches = read_safetensors(os.path.join(method_dir, "batches.safetensors"))
    accumulation = run["gradient_accumulation_steps"]
    params = [p for _, p in trainable]
    losses, seconds, tokens = [], [], []
    model.train()
    for step in range(run["steps"]):
        start = time.perf_counter()
        total, step_tokens = 0.0, 0
        for micro in range(accumulation):
            i = step * accumulation + micro
            mask = batches.get(f"{i}.attention_mask")
            loss = model(batches[f"{i}.input_ids"], batches[f"{i}.labels"], mask,
                         batches.get(f"{i}.position_ids"))
            (loss / accumulation).backward()
            total += loss.item()
            step_tokens += int(mask.sum()) if mask is not None else batches[f"{i}.input_ids"].numel()
        if run["max_grad_norm"] > 0:
            torch.nn.utils.clip_grad_norm_(params, run["max_grad_norm"])
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        seconds.append(time.perf_counter() - start)
        losses.append(total / accumulation)
        tokens.append(step_tokens)
    return losses, seconds, tokens


def matmul_peak(threads, seconds=1.0):
    """Best fp32 GFLOP/s of a 1024² torch.mm within `seconds`: the same measurement tunebench
    makes, repeated on this side because a shared machine's speed drifts between the two."""
    torch.set_num_threads(threads)
    a, b = torch.rand(1024, 1024), torch.rand(1024, 1024)
    c = torch.mm(a, b)
    best, start = float("inf"), time.perf_counter()
    while time.perf_counter() - start < seconds:
        t0 = time.perf_counter()
        torch.mm(a, b, out=c)
        best = min(best, time.perf_counter() - t0)
    return 2 * 1024 ** 3 / best / 1e9


def median(values):
    ordered = sorted(values)
    return ordered[len(ordered) // 2]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dump")
    parser.add_argument("--methods", default="full,lora,freeze")
    parser.add_argument("--tolerance", type=float, default=1e-4)
    parser.add_argument("--label", default="")
    args = parser.parse_args()
    failed = False
    rows = []
    for method in args.methods.split(","):
        method_dir = os.path.join(args.dump, method)
        run_file = os.path.join(method_dir, "run.json")
        if not os.path.exists(run_file):
            sys.exit(f"eager_reference: {run_file} is missing; run tunebench-cli bench --dump first")
        with open(run_file) as f:
            run = json.load(f)
        losses, seconds, tokens = train(run, method_dir, run["threads"])
        compared = min(20, len(losses))
        worst = max(abs(a - b) for a, b in zip(losses[:compared], run["losses"][:compared]))
        ok = worst <= args.tolerance
        failed |= not ok
        # The first step is warm-up on both sides (tunebench's median also skips it).
        eager_tps = median([t / s for t, s in zip(tokens[1:], seconds[1:])])
        # The machine's peak is the best either side measured: a low sample on one side would
        # otherwise inflate both sides' MFU.
        peak = max(run["matmul_gflops"], matmul_peak(run["threads"]))
        run["matmul_gflops"] = peak
        ours_mfu = run["flops_per_token"] * run["tokens_per_second"] / 1e9 / peak
        eager_mfu = run["flops_per_token"] * eager_tps / 1e9 / peak
        rows.append((method, run["tokens_per_second"], eager_tps, ours_mfu, eager_mfu, worst, ok))
        print(json.dumps({"event": "eager", "label": args.label, "method": method,
                          "tunebench_tokens_per_second": run["tokens_per_second"],
                          "eager_tokens_per_second": eager_tps,
                          "speedup": run["tokens_per_second"] / eager_tps,
                          "tunebench_mfu": ours_mfu, "eager_mfu": eager_mfu,
                          "matmul_gflops": peak, "threads": run["threads"],
                          "max_loss_difference": worst, "steps_compared": compared,
                          "eager_losses": losses}), flush=True)
    print(f"\n{args.label}: tunebench vs PyTorch {torch.__version__} eager, same weights, batches "
          f"and AdamW; fp32 matmul peak {run['matmul_gflops']:.1f} GFLOP/s, "
          f"{run['threads']} threads")
    print(f"{'method':8} {'ours tok/s':>11} {'eager tok/s':>12} {'speedup':>8} {'ours MFU':>9} "
          f"{'eager MFU':>10} {'max |Δloss|':>12}")
    for method, ours, eager, ours_mfu, eager_mfu, worst, ok in rows:
        print(f"{method:8} {ours:11.0f} {eager:12.0f} {ours / eager:7.2f}x {100 * ours_mfu:8.1f}% "
              f"{100 * eager_mfu:9.1f}% {worst:12.2e}{'' if ok else '  > tolerance: FAILED'}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
