#!/usr/bin/python3
"""tunebench against transformers + PEFT, from the committed reference (transformers_reference.json).

For every case of cases.json: tunebench-cli logits (model, PEFT adapter) at every position must
equal transformers' / PEFT's — the logits at every 16th vocabulary id, the log-sum-exp and the
arg-max over the whole vocabulary, the last position's full row — within --tolerance. The LoRA
adapter merged by `tunebench-cli export --format merged` must give PEFT's logits too. For every
training dump: tunebench-cli bench --dump repeats the same steps, and its first 20 losses must
equal PyTorch + transformers (+ PEFT)'s within --loss-tolerance.

  check_reference.py CLI SOURCE_DIR WORK [--tolerance 2e-4] [--loss-tolerance 1e-4]

The reference was made on a machine with transformers and PEFT (make_reference.py, README of
this folder); here nothing but the CLI and Python's standard library runs.
"""
import argparse
import json
import math
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))


def cli_json(cli, *args):
    done = subprocess.run([cli, *args], capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit(f"check_reference: {' '.join(args)} failed ({done.returncode}):\n{done.stderr}")
    return json.loads(done.stdout)


def compare_logits(name, rows, reference, tolerance):
    """rows: tunebench's logits [T][V]. Returns the problems found."""
    problems = []
    if len(rows) != len(reference["rows"]):
        return [f"{name}: {len(rows)} positions, transformers has {len(reference['rows'])}"]
    worst = 0.0
    for t, row in enumerate(rows):
        for j, column in enumerate(reference["columns"]):
            worst = max(worst, abs(row[column] - reference["rows"][t][j]))
        top = max(row)
        lse = top + math.log(sum(math.exp(v - top) for v in row))
        worst = max(worst, abs(lse - reference["logsumexp"][t]))
        best = max(range(len(row)), key=row.__getitem__)
        if best != reference["argmax"][t] and \
                abs(row[best] - row[reference["argmax"][t]]) > tolerance:
            problems.append(f"{name}: position {t}: arg-max {best}, transformers {reference['argmax'][t]}")
    worst = max([worst] + [abs(a - b) for a, b in zip(rows[-1], reference["last"])])
    print(f"logits {name}: {len(rows)} positions, max |Δ| {worst:.3g}")
    if worst > tolerance:
        problems.append(f"{name}: logits differ from transformers' by {worst:.3g} (tolerance {tolerance})")
    return problems


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("cli")
    parser.add_argument("source")
    parser.add_argument("work")
    parser.add_argument("--tolerance", type=float, default=2e-4)
    parser.add_argument("--loss-tolerance", type=float, default=1e-4)
    args = parser.parse_args()
    os.makedirs(args.work, exist_ok=True)
    os.environ["TB_DB"] = os.path.join(args.work, "runs.db")
    with open(os.path.join(HERE, "cases.json")) as f:
        cases = json.load(f)
    with open(os.path.join(HERE, "transformers_reference.json")) as f:
        reference = json.load(f)
    print(f"reference: {reference['versions']}")
    problems = list(f"reference made with problems: {p}" for p in reference["problems"])

    def logits(model, ids, adapter=None):
        extra = ["--adapter", os.path.join(args.source, adapter)] if adapter else []
        return cli_json(args.cli, "logits", model, *extra, "--ids", ",".join(map(str, ids)),
                        "--all-positions", "--json")

    for case in cases["logits"]:
        if case["name"] not in reference["logits"]:
            problems.append(f"{case['name']}: not in the reference")
            continue
        rows = logits(os.path.join(args.source, case["model"]), case["ids"], case.get("adapter"))
        problems += compare_logits(case["name"], rows, reference["logits"][case["name"]], args.tolerance)

    # The merged export of the LoRA adapter: a plain model with PEFT's outputs.
    lora_case = next(c for c in cases["logits"] if c["name"] == "llama+lora")
    merged = os.path.join(args.work, "merged-llama-lora")
    subprocess.run([args.cli, "export", os.path.join(args.source, lora_case["model"]), "--adapter",
                    os.path.join(args.source, lora_case["adapter"]), "--format", "merged", "--out",
                    merged, "--force"], check=True, capture_output=True)
    problems += compare_logits("merged llama+lora", logits(merged, lora_case["ids"]),
                               reference["logits"]["llama+lora"], args.tolerance)

    # Training: the same dump prepare.sh made, repeated here, against PyTorch's losses.
    prepare = os.path.join(HERE, "prepare.sh")
    subprocess.run(["bash", prepare, args.cli, args.source, args.work, "--dumps-only"], check=True)
    for entry in cases["training"]:
        for method in entry["methods"]:
            key = f"{entry['name']}/{method}"
            with open(os.path.join(args.work, entry["dump"], method, "run.json")) as f:
                ours = json.load(f)["losses"][:20]
            theirs = reference["training"][key]["losses"][:20]
            worst = max(abs(a - b) for a, b in zip(ours, theirs))
            print(f"training {key}: {len(ours)} losses, first {ours[0]:.5f} (PyTorch {theirs[0]:.5f}), "
                  f"max |Δ| {worst:.3g}")
            if len(ours) < 20 or worst > args.loss_tolerance:
                problems.append(f"training {key}: losses differ from PyTorch's by {worst:.3g} "
                                f"(tolerance {args.loss_tolerance}, {len(ours)} steps)")
    for problem in problems:
        print(f"FAILED: {problem}", file=sys.stderr)
    print(f"check_reference: {'ok' if not problems else f'{len(problems)} problems'}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
