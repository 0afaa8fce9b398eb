#!/usr/bin/env python3
"""transformers + PEFT's numbers for the files tunebench writes: the reference of check_reference.py.

Runs where transformers and PEFT are installed (they are not Debian packages, so not in the
default test run): on the GPU machine lent to some sessions, or any Python environment with
torch, transformers, peft and safetensors. Everything runs on the CPU in float32 with eager
attention, so the numbers are comparable with tunebench's CPU ones to ~1e-5.

  make_reference.py WORK OUT.json

WORK is what prepare.sh wrote (the merged export and the `bench --dump` folders); the model
folders and adapters named in cases.json are read from the source tree (the current folder).
For every logits case it stores, per input position, the logits at every 16th vocabulary id,
the log-sum-exp and the arg-max over the whole vocabulary, and the last position's full row;
for every training dump, PyTorch's losses of the same steps from the same weights and batches.
"""
import json
import math
import os
import re
import sys

import torch
import transformers
import peft
from safetensors.torch import load_file
from transformers import AutoModelForCausalLM, AutoModelForMaskedLM, AutoModelForSequenceClassification

torch.manual_seed(0)
torch.set_num_threads(min(8, os.cpu_count() or 1))
HERE = os.path.dirname(os.path.abspath(__file__))


def load(case_or_folder, klass="causal_lm"):
    folder = case_or_folder
    if klass == "sequence_classification":
        # The demo BERT is a masked-LM checkpoint: its pooler and classifier come from the
        # adapter (modules_to_save), so what transformers initialises them to does not matter.
        return AutoModelForSequenceClassification.from_pretrained(
            folder, num_labels=2, dtype=torch.float32, attn_implementation="eager")
    auto = AutoModelForCausalLM if klass == "causal_lm" else AutoModelForMaskedLM
    return auto.from_pretrained(folder, dtype=torch.float32, attn_implementation="eager")


def summarise(logits):
    """logits [T, V] → what the reference file keeps of them."""
    columns = list(range(0, logits.shape[-1], 16))
    return {"columns": columns,
            "rows": logits[:, columns].tolist(),
            "logsumexp": torch.logsumexp(logits.double(), -1).tolist(),
            "argmax": logits.argmax(-1).tolist(),
            "last": logits[-1].tolist()}


def case_logits(case):
    model = load(case["model"], case["class"])
    if case.get("adapter"):
        model = peft.PeftModel.from_pretrained(model, case["adapter"])
    model.eval()
    with torch.no_grad():
        ids = torch.tensor([case["ids"]])
        logits = model(input_ids=ids, attention_mask=torch.ones_like(ids)).logits[0].float()
    return logits if logits.dim() == 2 else logits.unsqueeze(0)  # a classifier: one row


def no_decay(name):
    return name.endswith("bias") or "norm" in name.lower()


def train_losses(run, method_dir):
    """PyTorch's losses for one `bench --dump` method folder (same settings as tunebench's)."""
    model = load(run["model"])
    initial = load_file(os.path.join(method_dir, "initial.safetensors"))
    for p in model.parameters():
        p.requires_grad_(False)
    lora = {n: t for n, t in initial.items() if ".lora_" in n}
    if lora:
        targets = sorted({re.sub(r".*\.", "", n.rsplit(".lora_", 1)[0]) for n in lora})
        config = peft.LoraConfig(r=run["lora_rank"], lora_alpha=run["lora_alpha"], lora_dropout=0.0,
                                 target_modules=targets, use_rslora=run["use_rslora"])
        model = peft.get_peft_model(model, config)
    by_name = dict(model.named_parameters())
    trainable = []  # in tunebench's order (its optimizer's)
    for name, tensor in initial.items():
        key = name
        if lora:
            key = "base_model.model." + name.replace(".lora_A.", ".lora_A.default.").replace(
                ".lora_B.", ".lora_B.default.")
        if key not in by_name:
            sys.exit(f"make_reference: {name} has no parameter in the transformers model ({key})")
        parameter = by_name[key]
        with torch.no_grad():
            parameter.copy_(tensor)
        parameter.requires_grad_(True)
        trainable.append((name, parameter))
    for name, parameter in model.named_parameters():
        if parameter.requires_grad and all(parameter is not p for _, p in trainable):
            parameter.requires_grad_(False)
    groups = [{"params": [p for n, p in trainable if not no_decay(n)], "weight_decay": run["weight_decay"]},
              {"params": [p for n, p in trainable if no_decay(n)], "weight_decay": 0.0}]
    optimizer = torch.optim.AdamW(groups, lr=run["learning_rate"], betas=(run["adam_beta1"], run["adam_beta2"]),
                                  eps=run["adam_epsilon"])
    batches = load_file(os.path.join(method_dir, "batches.safetensors"))
    accumulation = run["gradient_accumulation_steps"]
    model.train()
    losses = []
    for step in range(run["steps"]):
        total = 0.0
        for micro in range(accumulation):
            i = step * accumulation + micro
            kwargs = {"input_ids": batches[f"{i}.input_ids"], "labels": batches[f"{i}.labels"]}
            if f"{i}.attention_mask" in batches:
                kwargs["attention_mask"] = batches[f"{i}.attention_mask"]
            if f"{i}.position_ids" in batches:
                kwargs["position_ids"] = batches[f"{i}.position_ids"]
            loss = model(**kwargs).loss
            (loss / accumulation).backward()
            total += loss.item()
        if run["max_grad_norm"] > 0:
            torch.nn.utils.clip_grad_norm_([p for _, p in trainable], run["max_grad_norm"])
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        losses.append(total / accumulation)
    return losses


def main():
    work, out_path = sys.argv[1], sys.argv[2]
    with open(os.path.join(HERE, "cases.json")) as f:
        cases = json.load(f)
    result = {"versions": {"torch": torch.__version__, "transformers": transformers.__version__,
                           "peft": peft.__version__},
              "logits": {}, "training": {}, "problems": []}
    for case in cases["logits"]:
        try:
            result["logits"][case["name"]] = summarise(case_logits(case))
            print(f"logits {case['name']}: ok", flush=True)
        except Exception as error:  # recorded, so one failing case does not hide the others
            result["problems"].append(f"logits {case['name']}: {type(error).__name__}: {error}")
            print(result["problems"][-1], flush=True)
    # The merged export must load in transformers as a plain model with the adapter's outputs.
    try:
        merged = load(os.path.join(work, "merged-llama-lora"))
        merged.eval()
        ids = torch.tensor([cases["logits"][1]["ids"]])
        with torch.no_grad():
            merged_logits = merged(input_ids=ids).logits[0]
        peft_last = torch.tensor(result["logits"]["llama+lora"]["last"])
        result["merged_vs_peft_max_abs"] = float((merged_logits[-1] - peft_last).abs().max())
        print(f"merged vs PEFT: {result['merged_vs_peft_max_abs']:.3g}", flush=True)
    except Exception as error:
        result["problems"].append(f"merged: {type(error).__name__}: {error}")
        print(result["problems"][-1], flush=True)
    for entry in cases["training"]:
        for method in entry["methods"]:
            method_dir = os.path.join(work, entry["dump"], method)
            try:
                with open(os.path.join(method_dir, "run.json")) as f:
                    run = json.load(f)
                # run.json names the model by its absolute path on the machine that dumped it.
                model = run["model"]
                for anchor in ("resources/demo/models/", "models/"):
                    if not os.path.isdir(model) and anchor in model:
                        tail = model.split(anchor, 1)[1]
                        model = os.path.join("resources/demo/models" if anchor.startswith("resources")
                                             else os.path.join(work, "models"), tail)
                run["model"] = model
                losses = train_losses(run, method_dir)
                worst = max(abs(a - b) for a, b in zip(losses, run["losses"]))
                result["training"][f"{entry['name']}/{method}"] = {
                    "losses": losses, "tunebench_losses_at_dump": run["losses"], "max_abs_difference": worst}
                print(f"training {entry['name']}/{method}: max |Δloss| {worst:.3g}", flush=True)
            except Exception as error:
                result["problems"].append(f"training {entry['name']}/{method}: {type(error).__name__}: {error}")
                print(result["problems"][-1], flush=True)
    with open(out_path, "w") as f:
        json.dump(result, f)
    print(f"make_reference: {len(result['problems'])} problems", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
