#!/usr/bin/env python3
"""Runs the demo's rebuild recipe in its shortened form and checks what it must guarantee:
the data builder reproduces the committed demo data byte for byte, both tokenizers and both
pretraining runs work, and pretraining lowers the eval loss of both models.

usage: check_demo_recipe.py TUNEBENCH_CLI SOURCE_DIR WORK_DIR"""
import filecmp
import json
import os
import shutil
import subprocess
import sys

cli, source, work = sys.argv[1:4]
shutil.rmtree(work, ignore_errors=True)
os.makedirs(work)
env = dict(os.environ, TUNEBENCH_CLI=cli, TB_DB=os.path.join(work, "runs.db"))
recipe = os.path.join(source, "resources", "demo", "recipe", "rebuild.sh")
subprocess.run(["bash", recipe, "--quick", "--work", work], env=env, check=True)

failures = []
committed = os.path.join(source, "resources", "demo", "data")
for name in ["spam/train.jsonl", "spam/test.jsonl", "mail-instructions/train.jsonl",
             "mail-instructions/test.jsonl"]:
    if not filecmp.cmp(os.path.join(work, "data", name), os.path.join(committed, name),
                       shallow=False):
        failures.append(f"rebuilt data/{name} differs from the committed resources/demo/data/{name}")

for model in ["bert", "llama"]:
    events = [json.loads(line) for line in open(os.path.join(work, f"train-{model}.jsonl"))]
    evals = [e for e in events if e.get("event") == "eval"]
    done = [e for e in events if e.get("event") == "completed"]
    if not done:
        failures.append(f"{model}: pretraining did not complete: {events[-1] if events else 'no output'}")
        continue
    if len(evals) < 2 or evals[0]["step"] != 0:
        failures.append(f"{model}: expected an eval at step 0 and later ones, got {evals}")
        continue
    first, last = evals[0]["loss"], evals[-1]["loss"]
    print(f"{model}: eval loss {first:.4f} at step 0 -> {last:.4f} at step {evals[-1]['step']}")
    if not last < 0.9 * first:
        failures.append(f"{model}: eval loss did not fall by 10 %: {first:.4f} -> {last:.4f}")
    for file in ["config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json"]:
        if not os.path.isfile(os.path.join(work, f"pretrained-{model}", file)):
            failures.append(f"{model}: pretrained folder lacks {file}")

for failure in failures:
    print("FAIL:", failure, file=sys.stderr)
sys.exit(1 if failures else 0)
