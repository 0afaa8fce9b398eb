#!/usr/bin/env python3
"""transformers + PEFT training throughput on a CUDA GPU for the benchmark's ~33M Llama.

What a user of the Python stack gets on a GPU, for the README's comparison: the same model
shape as bench_training.sh's llama-33m (hidden 512, 8 layers, 8 heads, intermediate 1664,
vocabulary 4096, sequence 256), random weights, random token rows, AdamW, full fine-tuning and
LoRA r=8 on every linear layer; float32 (TF32 off), TF32, and bf16 autocast. Prints tokens/s
(median of steps 5…N), the GPU's peak allocated memory and model-FLOPs utilisation against the
dense matmul peak measured in the same run for that precision.

  gpu_reference.py [--steps 30] [--batch 8] [--out results.json]
"""
import argparse
import json
import time

import torch
import peft
import transformers
from transformers import LlamaConfig, LlamaForCausalLM


def matmul_peak(dtype, allow_tf32):
    torch.backends.cuda.matmul.allow_tf32 = allow_tf32
    n = 8192
    a = torch.randn(n, n, device="cuda", dtype=dtype)
    b = torch.randn(n, n, device="cuda", dtype=dtype)
    for _ in range(3):
        a @ b
    torch.cuda.synchronize()
    start = time.perf_counter()
    for _ in range(10):
        a @ b
    torch.cuda.synchronize()
    return 2 * n ** 3 * 10 / (time.perf_counter() - start) / 1e12


def run(method, precision, steps, batch, seq):
    torch.manual_seed(0)
    config = LlamaConfig(vocab_size=4096, hidden_size=512, num_hidden_layers=8, num_attention_heads=8,
                         num_key_value_heads=8, intermediate_size=1664, max_position_embeddings=2048,
                         tie_word_embeddings=True)
    model = LlamaForCausalLM(config).cuda()
    parameters = sum(p.numel() for p in model.parameters())
    if method == "lora":
        model = peft.get_peft_model(model, peft.LoraConfig(
            r=8, lora_alpha=16, lora_dropout=0.0,
            target_modules=["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]))
    trainable = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(trainable, lr=1e-3, weight_decay=0.01, fused=True)
    torch.backends.cuda.matmul.allow_tf32 = precision == "tf32"
    torch.backends.cudnn.allow_tf32 = precision == "tf32"
    ids = torch.randint(0, 4096, (batch, seq), device="cuda")
    torch.cuda.reset_peak_memory_stats()
    times = []
    for _ in range(steps):
        torch.cuda.synchronize()
        start = time.perf_counter()
        with torch.autocast("cuda", dtype=torch.bfloat16, enabled=precision == "bf16"):
            loss = model(input_ids=ids, labels=ids).loss
        loss.backward()
        torch.nn.utils.clip_grad_norm_(trainable, 1.0)
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        torch.cuda.synchronize()
        times.append(time.perf_counter() - start)
    steady = sorted(times[4:])
    step = steady[len(steady) // 2]
    tokens = batch * seq
    dense = parameters  # tied: the embedding matrix is also the lm_head GEMM, counted once
    attention = 2 * 2 * config.num_hidden_layers * seq * config.hidden_size  # QKᵀ and PV per token
    flops = 6 * dense + 3 * attention if method == "full" else 4 * dense + 3 * attention
    return {"method": method, "precision": precision, "tokens_per_second": tokens / step,
            "step_ms": 1000 * step, "peak_allocated_mib": torch.cuda.max_memory_allocated() / 2 ** 20,
            "flops_per_token": flops, "parameters": parameters, "final_loss": loss.item()}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--seq", type=int, default=256)
    parser.add_argument("--out", default="")
    args = parser.parse_args()
    peaks = {"fp32": matmul_peak(torch.float32, False), "tf32": matmul_peak(torch.float32, True),
             "bf16": matmul_peak(torch.bfloat16, False)}
    rows = []
    for precision in ("fp32", "tf32", "bf16"):
        for method in ("full", "lora"):
            row = run(method, precision, args.steps, args.batch, args.seq)
            row["mfu"] = row["flops_per_token"] * row["tokens_per_second"] / 1e12 / peaks[precision]
            rows.append(row)
            print(json.dumps(row), flush=True)
    print(f"\n{torch.cuda.get_device_name()}: torch {torch.__version__}, transformers "
          f"{transformers.__version__}, peft {peft.__version__}; matmul peak (8192³) "
          + ", ".join(f"{k} {v:.0f} TFLOP/s" for k, v in peaks.items()))
    print(f"{'method':6} {'precision':9} {'tokens/s':>10} {'step ms':>8} {'peak MiB':>9} {'MFU':>6}")
    for r in rows:
        print(f"{r['method']:6} {r['precision']:9} {r['tokens_per_second']:10.0f} {r['step_ms']:8.2f} "
              f"{r['peak_allocated_mib']:9.0f} {100 * r['mfu']:5.1f}%")
    if args.out:
        with open(args.out, "w") as f:
            json.dump({"peaks_tflops": peaks, "rows": rows, "device": torch.cuda.get_device_name(),
                       "versions": {"torch": torch.__version__, "transformers": transformers.__version__,
                                    "peft": peft.__version__}}, f, indent=1)
    return 0


if __name__ == "__main__":
    main()
