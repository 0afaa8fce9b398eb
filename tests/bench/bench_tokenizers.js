#!/usr/bin/env node
// Tokenizer benchmark: for each tokenizer of the interop test, single-thread encode MB/s of the
// reference (Hugging Face tokenizers through Node, sequential awaits) and of tunebench on the
// same text in the same run, plus tunebench's batch scaling. Prints a Markdown table.
//
// usage: node bench_tokenizers.js --bench <bench_tokenizer> [--threads N] [--cache DIR]
'use strict';
const fs = require('fs');
const path = require('path');
const { spawnSync } = require('child_process');
const common = require('../interop/tokenizer_common.js');

async function main() {
  const args = {};
  for (let i = 2; i < process.argv.length; i += 2) args[process.argv[i].replace(/^--/, '')] = process.argv[i + 1];
  if (!args.bench) throw new Error('missing --bench');
  const cache = args.cache || common.referenceCache();
  const threads = args.threads || String(require('os').cpus().length);
  const modules = path.join(cache, 'npm', 'node_modules');
  const ref = require(path.join(modules, '@anush008', 'tokenizers'));
  const tokenizers = common.tokenizers(modules, cache);
  const corpus = common.buildCorpus(modules, cache, tokenizers);
  const lines = fs.readFileSync(corpus, 'utf8').split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  const bytes = fs.statSync(corpus).size;
  const mb = bytes / 1e6;
  console.log(`text: ${corpus} (${lines.length} lines, ${(mb).toFixed(2)} MB); threads for batch: ${threads}\n`);
  console.log(`load average before: ${require('os').loadavg().map((x) => x.toFixed(2)).join(' ')}`);
  const control = spawnSync(args.bench, ['--control', threads], { encoding: 'utf8' });
  if (control.status !== 0) throw new Error(`bench_tokenizer --control failed: ${control.stderr}`);
  console.log(`machine parallelism now: a pure compute loop scales ` +
              `${JSON.parse(control.stdout).control_scaling.toFixed(2)}x on ${threads} threads\n`);
  console.log('| tokenizer | reference MB/s (wall) | ours MB/s (wall) | speed-up (wall) | reference MB/s (CPU) | ours MB/s (CPU) | speed-up (CPU) | ours ids-only MB/s | batch 1 thread MB/s | batch ' + threads + ' threads MB/s | scaling (wall) | CPU ratio batch ' + threads + '/1 |');
  console.log('|---|---|---|---|---|---|---|---|---|---|---|---|');
  for (const [name, tokPath] of Object.entries(tokenizers)) {
    const tok = ref.Tokenizer.fromFile(tokPath);
    const t0 = process.hrtime.bigint();
    const c0 = process.cpuUsage();
    for (const line of lines) await tok.encode(line, null, { addSpecialTokens: false });
    const refS = Number(process.hrtime.bigint() - t0) / 1e9;
    const c1 = process.cpuUsage(c0);
    const refCpuS = (c1.user + c1.system) / 1e6;
    const r = spawnSync(args.bench, [tokPath, corpus, threads], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`bench_tokenizer failed: ${r.stderr}`);
    const ours = JSON.parse(r.stdout);
    const refMbS = mb / refS, refCpuMbS = mb / refCpuS;
    console.log(`| ${name} | ${refMbS.toFixed(2)} | ${ours.encode_mb_s.toFixed(2)} | ${(ours.encode_mb_s / refMbS).toFixed(1)}x | ` +
                `${refCpuMbS.toFixed(2)} | ${ours.encode_cpu_mb_s.toFixed(2)} | ${(ours.encode_cpu_mb_s / refCpuMbS).toFixed(1)}x | ` +
                `${ours.encode_ids_mb_s.toFixed(2)} | ${ours.batch1_mb_s.toFixed(2)} | ${ours.batchn_mb_s.toFixed(2)} | ` +
                `${(ours.batchn_mb_s / ours.batch1_mb_s).toFixed(2)}x | ${(ours.batchn_cpu_s / ours.batch1_cpu_s).toFixed(2)} |`);
  }
}

main().catch((e) => {
  console.error(`bench_tokenizers: ${e.stack || e}`);
  process.exit(1);
});
