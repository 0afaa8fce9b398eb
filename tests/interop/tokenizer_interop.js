#!/usr/bin/env node
// Tokenizer interop test: tunebench's C++ tokenizer against the Hugging Face `tokenizers`
// library (Rust, through its Node binding) on the same >= 5 MB of varied text, for six real
// tokenizers. Every line's ids must be identical, and decoding the reference ids must give the
// reference text; on a sample encoded with special tokens, the code-point offsets must match
// too. Reference outputs are cached (keyed by a hash of corpus + tokenizer) so
// later runs only pay for our side.
//
// usage: node tokenizer_interop.js --cli <tunebench-cli> --work <dir> [--cache <dir>]
// (the cache defaults to $TB_REFERENCE_CACHE or ~/.cache/tunebench, as setup_references.sh)
'use strict';
const fs = require('fs');
const path = require('path');
const crypto = require('crypto');
const { spawnSync } = require('child_process');
const common = require('./tokenizer_common.js');

function parseArgs(argv) {
  const args = {};
  for (let i = 2; i < argv.length; i += 2) args[argv[i].replace(/^--/, '')] = argv[i + 1];
  args.cache = args.cache || common.referenceCache();
  for (const k of ['cli', 'cache', 'work']) {
    if (!args[k]) throw new Error(`missing --${k}`);
  }
  return args;
}

function sha256(...parts) {
  const h = crypto.createHash('sha256');
  for (const p of parts) h.update(p);
  return h.digest('hex').slice(0, 16);
}

function runCli(cli, args) {
  const r = spawnSync(cli, args, { maxBuffer: 1 << 30, encoding: 'utf8' });
  if (r.status !== 0) {
    throw new Error(`${cli} ${args.join(' ')} failed (${r.status}): ${r.stderr}`);
  }
  return r.stdout;
}

function splitLines(text) {
  const lines = text.split('\n');
  if (lines.length && lines[lines.length - 1] === '') lines.pop();
  return lines;
}

async function referenceOutputs(ref, name, tokPath, corpusPath, lines, cacheDir, addSpecial) {
  const key = sha256(fs.readFileSync(corpusPath), fs.readFileSync(tokPath), addSpecial ? 'S' : 'N', 'v1');
  const idsFile = path.join(cacheDir, `${name}-${key}.ids.jsonl`);
  const textFile = path.join(cacheDir, `${name}-${key}.decoded.jsonl`);
  const offsetsFile = path.join(cacheDir, `${name}-${key}.offsets.jsonl`);
  const skipFile = path.join(cacheDir, `${name}-${key}.decoded-skip-special.jsonl`);
  for (const f of [idsFile, textFile, offsetsFile, skipFile]) usedReferenceFiles.add(f);
  if (fs.existsSync(idsFile) && fs.existsSync(textFile) &&
      (!addSpecial || (fs.existsSync(offsetsFile) && fs.existsSync(skipFile)))) {
    return { idsFile, textFile, offsetsFile, skipFile, cached: true };
  }
  const tok = ref.Tokenizer.fromFile(tokPath);
  const idLines = [];
  const textLines = [];
  const offsetLines = [];
  const skipLines = [];
  const chunk = 2000;
  for (let i = 0; i < lines.length; i += chunk) {
    const batch = lines.slice(i, i + chunk);
    const encodings = await tok.encodeBatch(batch, { addSpecialTokens: addSpecial });
    const ids = encodings.map((e) => Array.from(e.getIds()));
    if (addSpecial) for (const e of encodings) offsetLines.push(JSON.stringify(e.getOffsets()));
    const texts = await tok.decodeBatch(ids, false);
    if (addSpecial) for (const t of await tok.decodeBatch(ids, true)) skipLines.push(JSON.stringify(t));
    for (let k = 0; k < ids.length; ++k) {
      idLines.push(JSON.stringify(ids[k]));
      textLines.push(JSON.stringify(texts[k]));
    }
  }
  fs.mkdirSync(cacheDir, { recursive: true });
  fs.writeFileSync(idsFile + '.tmp', idLines.join('\n') + '\n');
  fs.writeFileSync(textFile + '.tmp', textLines.join('\n') + '\n');
  fs.renameSync(idsFile + '.tmp', idsFile);
  fs.renameSync(textFile + '.tmp', textFile);
  if (addSpecial) {
    fs.writeFileSync(offsetsFile, offsetLines.join('\n') + '\n');
    fs.writeFileSync(skipFile, skipLines.join('\n') + '\n');
  }
  return { idsFile, textFile, offsetsFile, skipFile, cached: false };
}

// Pairs with truncation and special tokens: the reference's output for (first[i], second[i]).
async function referencePairs(ref, name, tokPath, first, second, maxLength, strategy, cacheDir) {
  // Pairs the reference refuses (only_first/only_second when the other input alone is too
  // long) are left out; `kept` lists the indices used.
  const key = sha256(JSON.stringify([first, second, maxLength, strategy]), fs.readFileSync(tokPath), 'pairs-v2');
  const file = path.join(cacheDir, `${name}-${key}.pairs.json`);
  usedReferenceFiles.add(file);
  if (fs.existsSync(file)) return JSON.parse(fs.readFileSync(file, 'utf8'));
  const tok = ref.Tokenizer.fromFile(tokPath);
  tok.setTruncation(maxLength, { strategy });
  const result = { kept: [], outputs: [] };
  for (let i = 0; i < first.length; ++i) {
    let e;
    try {
      e = await tok.encode(first[i], second[i], { addSpecialTokens: true });
    } catch (error) {
      continue;
    }
    result.kept.push(i);
    result.outputs.push(JSON.stringify({ ids: Array.from(e.getIds()), type_ids: Array.from(e.getTypeIds()) }));
  }
  fs.mkdirSync(cacheDir, { recursive: true });
  fs.writeFileSync(file, JSON.stringify(result));
  return result;
}

// Reference outputs of older corpora or tokenizer files are never read again: remove them.
const usedReferenceFiles = new Set();
function pruneReferenceCache(dir) {
  if (!fs.existsSync(dir)) return;
  for (const f of fs.readdirSync(dir)) {
    if (!usedReferenceFiles.has(path.join(dir, f))) fs.rmSync(path.join(dir, f), { force: true });
  }
}

function firstDifference(a, b) {
  let i = 0;
  while (i < a.length && i < b.length && a[i] === b[i]) ++i;
  return i;
}

async function main() {
  const args = parseArgs(process.argv);
  const modules = path.join(args.cache, 'npm', 'node_modules');
  const ref = require(path.join(modules, '@anush008', 'tokenizers'));
  fs.mkdirSync(args.work, { recursive: true });
  const tokenizers = common.tokenizers(modules, args.cache);
  const corpusPath = common.buildCorpus(modules, args.cache, tokenizers);
  const corpusText = fs.readFileSync(corpusPath, 'utf8');
  const lines = splitLines(corpusText);
  const bytes = fs.statSync(corpusPath).size;
  console.log(`corpus: ${corpusPath}: ${lines.length} lines, ${bytes} bytes`);
  // A sample with special tokens on, to cover the post-processors.
  const samplePath = path.join(args.work, 'sample.txt');
  const sampleLines = lines.filter((_, i) => i % 50 === 0);
  fs.writeFileSync(samplePath, sampleLines.join('\n') + '\n');
  // Pairs: sample lines paired with other sample lines, truncated (three strategies).
  const pairFirst = sampleLines.slice(0, 600);
  const pairSecond = sampleLines.slice(600, 1200);

  const refDir = path.join(args.cache, 'interop-reference');
  let failed = false;
  const rows = [];
  const all = {};
  for (const [name, p] of Object.entries(tokenizers)) all[name] = { ref: p, ours: p };
  Object.assign(all, common.legacyTokenizers(modules, args.cache, tokenizers));
  for (const [name, { ref: tokPath, ours: ourPath }] of Object.entries(all)) {
    const t0 = Date.now();
    const key = name.split(' ')[0];
    const refOut = await referenceOutputs(ref, key, tokPath, corpusPath, lines, refDir, false);
    const t1 = Date.now();
    const ours = splitLines(runCli(args.cli, ['tokenize', ourPath, '--file', corpusPath, '--jsonl']));
    const t2 = Date.now();
    const refIds = splitLines(fs.readFileSync(refOut.idsFile, 'utf8'));
    const refTexts = splitLines(fs.readFileSync(refOut.textFile, 'utf8'));
    const ourTexts = splitLines(runCli(args.cli, ['tokenize', ourPath, '--decode-ids', refOut.idsFile]));
    const sampleRef = await referenceOutputs(ref, key + '-special', tokPath, samplePath, sampleLines, refDir, true);
    const sampleOurs = splitLines(runCli(args.cli, ['tokenize', ourPath, '--file', samplePath, '--jsonl', '--add-special-tokens', '--offsets']))
      .map((l) => JSON.parse(l));
    const sampleRefIds = splitLines(fs.readFileSync(sampleRef.idsFile, 'utf8'));
    const sampleRefOffsets = splitLines(fs.readFileSync(sampleRef.offsetsFile, 'utf8'));
    const sampleRefSkip = splitLines(fs.readFileSync(sampleRef.skipFile, 'utf8'));
    const sampleOurSkip = splitLines(runCli(args.cli, ['tokenize', ourPath, '--decode-ids', sampleRef.idsFile, '--skip-special-tokens']));

    const shownPairs = [];
    const strategies = ['LongestFirst', 'OnlyFirst', 'OnlySecond'];
    let pairsSame = 0, pairsTotal = 0;
    for (const strategy of strategies) {
      const maxLength = strategy === 'LongestFirst' ? 48 : 64;
      const refResult = await referencePairs(ref, key, tokPath, pairFirst, pairSecond, maxLength, strategy, refDir);
      const refPairs = refResult.outputs;
      const firstPath = path.join(args.work, `pairs-${key}-${strategy}-a.txt`);
      const secondPath = path.join(args.work, `pairs-${key}-${strategy}-b.txt`);
      fs.writeFileSync(firstPath, refResult.kept.map((i) => pairFirst[i]).join('\n') + '\n');
      fs.writeFileSync(secondPath, refResult.kept.map((i) => pairSecond[i]).join('\n') + '\n');
      const ourPairs = splitLines(runCli(args.cli, ['tokenize', ourPath, '--file', firstPath, '--pair-with', secondPath,
        '--add-special-tokens', '--max-length', String(maxLength), '--truncation', strategy.replace(/([a-z])([A-Z])/, '$1_$2').toLowerCase()]));
      for (let i = 0; i < refPairs.length; ++i) {
        ++pairsTotal;
        if (ourPairs[i] === refPairs[i]) ++pairsSame;
        else if (shownPairs.length < 3) shownPairs.push(`  pair ${i + 1} (${strategy}): reference ${refPairs[i].slice(0, 120)} ours ${String(ourPairs[i]).slice(0, 120)}`);
      }
    }
    let same = 0, decodeSame = 0, specialSame = 0, offsetsSame = 0, skipSame = 0;
    const shown = [];
    for (let i = 0; i < lines.length; ++i) {
      if (ours[i] === refIds[i]) {
        ++same;
      } else if (shown.length < 5) {
        const a = JSON.parse(refIds[i]), b = ours[i] ? JSON.parse(ours[i]) : [];
        const k = firstDifference(a, b);
        shown.push(`  line ${i + 1}: ${JSON.stringify(lines[i].slice(0, 200))}\n` +
                   `    first difference at token ${k}: reference ${JSON.stringify(a.slice(k, k + 8))}` +
                   ` ours ${JSON.stringify(b.slice(k, k + 8))}`);
      }
      let ourText;
      try { ourText = JSON.parse(ourTexts[i]); } catch (e) { ourText = undefined; }
      if (ourText === JSON.parse(refTexts[i])) {
        ++decodeSame;
      } else if (shown.length < 8) {
        shown.push(`  decode line ${i + 1}: reference ${refTexts[i].slice(0, 160)}\n` +
                   `                 ours ${String(ourTexts[i]).slice(0, 160)}`);
      }
    }
    const offsetDiffs = [];
    for (let i = 0; i < sampleLines.length; ++i) {
      const ourIds = JSON.stringify(sampleOurs[i].ids);
      if (ourIds === sampleRefIds[i]) ++specialSame;
      else if (shown.length < 10) shown.push(`  with special tokens, sample line ${i + 1}: reference ${sampleRefIds[i].slice(0, 120)} ours ${ourIds.slice(0, 120)}`);
      if (JSON.parse(sampleOurSkip[i]) === JSON.parse(sampleRefSkip[i])) ++skipSame;
      else if (shown.length < 10) shown.push(`  decode skipping special tokens, sample line ${i + 1}: reference ${sampleRefSkip[i].slice(0, 100)} ours ${String(sampleOurSkip[i]).slice(0, 100)}`);
      if (JSON.stringify(sampleOurs[i].offsets) === sampleRefOffsets[i]) ++offsetsSame;
      else if (offsetDiffs.length < 3) offsetDiffs.push(`  offsets differ, sample line ${i + 1} ${JSON.stringify(sampleLines[i].slice(0, 60))}: reference ${sampleRefOffsets[i].slice(0, 100)} ours ${JSON.stringify(sampleOurs[i].offsets).slice(0, 100)}`);
    }
    const ok = same === lines.length && decodeSame === lines.length && specialSame === sampleLines.length &&
               offsetsSame === sampleLines.length && skipSame === sampleLines.length && pairsSame === pairsTotal && ours.length === lines.length;
    failed = failed || !ok;
    rows.push({ name, same, decodeSame, specialSame, offsetsSame, pairsSame, pairsTotal });
    console.log(`${ok ? 'PASS' : 'FAIL'} ${name}: ids identical ${same}/${lines.length} ` +
                `(${(100 * same / lines.length).toFixed(3)} %), decode identical ${decodeSame}/${lines.length}, ` +
                `with special tokens ${specialSame}/${sampleLines.length} (decode skipping them ${skipSame}), offsets ${offsetsSame}/${sampleLines.length}, pairs with truncation ${pairsSame}/${pairsTotal}; reference ${refOut.cached ? 'cached' : `${((t1 - t0) / 1000).toFixed(1)} s`}, ours ${((t2 - t1) / 1000).toFixed(1)} s`);
    for (const s of shown) console.log(s);
    for (const s of offsetDiffs) console.log(s);
    for (const s of shownPairs) console.log(s);
  }
  console.log('\n| tokenizer | lines | bytes | identical ids | decode identical | with special tokens | offsets identical (sample, special tokens on) | pairs with truncation |');
  console.log('|---|---|---|---|---|---|---|---|');
  for (const r of rows) {
    console.log(`| ${r.name} | ${lines.length} | ${bytes} | ${(100 * r.same / lines.length).toFixed(3)} % | ` +
                `${(100 * r.decodeSame / lines.length).toFixed(3)} % | ${r.specialSame}/${sampleLines.length} | ${r.offsetsSame}/${sampleLines.length} | ${r.pairsSame}/${r.pairsTotal} |`);
  }
  pruneReferenceCache(refDir);
  if (failed) {
    console.error('tokenizer interop: FAILED (ids or decoded text differ from the reference)');
    process.exit(1);
  }
}

main().catch((e) => {
  console.error(`tokenizer interop: ${e.stack || e}`);
  process.exit(1);
});
