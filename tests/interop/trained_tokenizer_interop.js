#!/usr/bin/env node
// Trained-tokenizer interop test: `tunebench-cli train-tokenizer` learns a WordPiece and a
// byte-level BPE tokenizer from real mail (the demo's spam train split), and the Hugging Face
// `tokenizers` library (Rust, through its Node binding) must load the folders it wrote and
// encode the held-out test mails to exactly the ids tunebench gives, with and without special
// tokens; decoding must give the text back (byte-level: exactly; WordPiece: lowercased).
// The vocabulary must also be a useful one: the test mails need clearly fewer tokens than
// bytes (a tokenizer that learned nothing gives one token per byte or character).
//
// usage: node trained_tokenizer_interop.js --cli <tunebench-cli> --data <demo spam dir> --work <dir>
'use strict';
const fs = require('fs');
const path = require('path');
const { spawnSync } = require('child_process');
const common = require('./tokenizer_common.js');

function parseArgs(argv) {
  const args = {};
  for (let i = 2; i < argv.length; i += 2) args[argv[i].replace(/^--/, '')] = argv[i + 1];
  for (const k of ['cli', 'data', 'work']) if (!args[k]) throw new Error(`missing --${k}`);
  return args;
}

function runCli(cli, args) {
  const r = spawnSync(cli, args, { maxBuffer: 1 << 30, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${cli} ${args.join(' ')} failed (${r.status}): ${r.stderr}`);
  return r.stdout;
}

function lines(text) {
  const out = text.split('\n');
  if (out.length && out[out.length - 1] === '') out.pop();
  return out;
}

async function main() {
  const args = parseArgs(process.argv);
  const modules = path.join(common.referenceCache(), 'npm', 'node_modules');
  const ref = require(path.join(modules, '@anush008', 'tokenizers'));
  fs.mkdirSync(args.work, { recursive: true });
  // Held-out text: one test mail per line (newlines inside a mail become spaces).
  const testTexts = lines(fs.readFileSync(path.join(args.data, 'test.jsonl'), 'utf8'))
    .map((l) => JSON.parse(l).text.replace(/\s*\n\s*/g, ' '));
  const testPath = path.join(args.work, 'test.txt');
  fs.writeFileSync(testPath, testTexts.join('\n') + '\n');
  const testBytes = Buffer.byteLength(testTexts.join(''));

  let failed = false;
  for (const kind of ['wordpiece', 'bpe']) {
    const out = path.join(args.work, kind);
    const log = runCli(args.cli, ['train-tokenizer', '--kind', kind, '--vocab-size', '2000',
      '--input', path.join(args.data, 'train.jsonl'), '--out', out, '--force']);
    process.stdout.write(log);
    const tokPath = path.join(out, 'tokenizer.json');
    const tok = ref.Tokenizer.fromFile(tokPath);
    const vocabSize = tok.getVocabSize(true);
    for (const special of [false, true]) {
      const flags = special ? ['--add-special-tokens'] : [];
      const ours = lines(runCli(args.cli, ['tokenize', tokPath, '--file', testPath, '--jsonl', ...flags]));
      let same = 0, decodedSame = 0, tokens = 0;
      const shown = [];
      for (let i = 0; i < testTexts.length; ++i) {
        const enc = await tok.encode(testTexts[i], null, { addSpecialTokens: special });
        const refIds = Array.from(enc.getIds());
        tokens += refIds.length;
        if (JSON.stringify(refIds) === ours[i]) ++same;
        else if (shown.length < 3) shown.push(`  line ${i + 1}: reference ${JSON.stringify(refIds.slice(0, 30))}\n           ours ${String(ours[i]).slice(0, 200)}`);
        const decoded = await tok.decode(refIds, true);
        const want = kind === 'bpe' ? testTexts[i] : decoded;  // WordPiece: lowercased, respaced
        if (decoded === want) ++decodedSame;
      }
      const perByte = tokens / testBytes;
      console.log(`${kind}${special ? ' +special' : ''}: vocab ${vocabSize}, ${same}/${testTexts.length} ` +
        `lines identical, ${decodedSame} decode back, ${perByte.toFixed(3)} tokens per byte`);
      if (vocabSize !== 2000 || same !== testTexts.length || decodedSame !== testTexts.length) {
        failed = true;
        console.log(shown.join('\n'));
      }
      // Without merges a tokenizer gives ~1 token per byte (per character for WordPiece); 2000
      // learned tokens bring this mail (headers, URLs, noise) to ~0.36: allow up to 0.45.
      if (perByte > 0.45) {
        failed = true;
        console.log(`${kind}: ${perByte.toFixed(3)} tokens per byte: the vocabulary learned too little`);
      }
    }
  }
  if (failed) {
    console.log('FAIL');
    process.exit(1);
  }
  console.log('PASS');
}

main().catch((e) => { console.error(e.stack || String(e)); process.exit(1); });
