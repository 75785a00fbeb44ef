// Renders every case of cases.json with @huggingface/jinja (the reference implementation) and writes, per
// case, NAME.input.json (what `switchyard chat-template --input` reads) and NAME.expected (the exact bytes)
// or NAME.error (the reference's error message, for cases that must fail).
// Usage: node render_reference.mjs JINJA_PACKAGE_DIR CASES_JSON TEMPLATES_DIR OUT_DIR
import fs from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";

const [jinjaDir, casesPath, templatesDir, outDir] = process.argv.slice(2);
if (!outDir) {
  console.error("usage: node render_reference.mjs JINJA_PACKAGE_DIR CASES_JSON TEMPLATES_DIR OUT_DIR");
  process.exit(2);
}
const pkg = JSON.parse(fs.readFileSync(path.join(jinjaDir, "package.json"), "utf8"));
const entry = pkg.exports?.["."]?.import ?? pkg.module ?? "dist/index.js";
const { Template } = await import(pathToFileURL(path.join(jinjaDir, typeof entry === "string" ? entry : entry.default)).href);

// strftime_now() reads the clock; pin it to each case's `now` so both sides print the same date.
const RealDate = Date;
let pinned = null;
globalThis.Date = class extends RealDate {
  constructor(...args) {
    if (args.length === 0 && pinned !== null) super(pinned);
    else super(...args);
  }
};

const { shared, cases } = JSON.parse(fs.readFileSync(casesPath, "utf8"));
// A case names shared pieces ("$tools_weather") instead of repeating them.
const expand = (v) => (typeof v === "string" && v.startsWith("$") ? structuredClone(shared[v.slice(1)]) : v);

fs.mkdirSync(outDir, { recursive: true });
let count = 0;
for (const c of cases) {
  const input = { template: c.template };
  for (const key of ["messages", "tools", "add_generation_prompt", "bos_token", "eos_token", "extra", "now"]) {
    if (c[key] !== undefined) input[key] = expand(c[key]);
  }
  fs.writeFileSync(path.join(outDir, `${c.name}.input.json`), JSON.stringify(input, null, 1));
  // The variables transformers.js passes: messages, add_generation_prompt, the special tokens, tools when
  // given, then extra keyword arguments.
  const vars = { messages: input.messages, add_generation_prompt: input.add_generation_prompt ?? false };
  if (input.tools !== undefined) vars.tools = input.tools;
  if (input.bos_token !== undefined) vars.bos_token = input.bos_token;
  if (input.eos_token !== undefined) vars.eos_token = input.eos_token;
  Object.assign(vars, input.extra ?? {});
  pinned = input.now !== undefined ? input.now * 1000 : null;
  const source = fs.readFileSync(path.join(templatesDir, c.template), "utf8");
  try {
    const text = new Template(source).render(vars);
    fs.writeFileSync(path.join(outDir, `${c.name}.expected`), text);
  } catch (e) {
    fs.writeFileSync(path.join(outDir, `${c.name}.error`), String(e.message));
  }
  ++count;
}
console.log(`reference: rendered ${count} cases with @huggingface/jinja ${pkg.version}`);
