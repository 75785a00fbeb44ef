// The official `openai` npm client against `switchyard serve --models`: /v1/models lists each model and `auto`;
// `auto` sends each held-out prompt to its expected model (the response's `model` and `routing.model`), in chat,
// completions and a stream; a named model answers itself; an unknown one is the client's NotFoundError.
// Usage: node composition_client.mjs NODE_MODULES_DIR BASE_URL CASES_FILE [MIN_ACCURACY]
//   CASES_FILE: JSON lines {"prompt": "...", "model": "NAME"}; MIN_ACCURACY (default 1): the share of cases that
//   must reach their model (a learned router may miss a few held-out prompts).
import { createRequire } from 'node:module';
import fs from 'node:fs';
import path from 'node:path';

const [modulesDir, baseURL, casesFile, minAccuracyText] = process.argv.slice(2);
const minAccuracy = Number(minAccuracyText ?? '1');
const require = createRequire(path.join(modulesDir, 'package.json'));
const OpenAI = require('openai').default ?? require('openai');

let failures = 0;
function check(cond, what) {
  if (cond) { console.log(`ok   ${what}`); } else { console.log(`FAIL ${what}`); failures++; }
}

const cases = fs.readFileSync(casesFile, 'utf8').split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l));
check(cases.length > 0, `${cases.length} cases`);
const client = new OpenAI({ baseURL, apiKey: 'none', maxRetries: 0, timeout: 120000 });

const models = await client.models.list();
const ids = models.data.map((m) => m.id);
check(ids.includes('auto'), `models.list has auto: ${ids}`);
for (const name of new Set(cases.map((c) => c.model))) check(ids.includes(name), `models.list has ${name}`);
check(models.data.every((m) => m.id === 'auto' || (typeof m.description === 'string' && Array.isArray(m.categories))),
      'each model has description and categories');
const auto = await client.models.retrieve('auto');
check(auto.id === 'auto' && Array.isArray(auto.models), 'models.retrieve auto');

// Chat, or a completion for a model without a chat template (the router reads the same text: the last user
// message or the prompt).
async function ask(model, prompt, extra = {}) {
  try {
    return await client.chat.completions.create({
      model, messages: [{ role: 'user', content: prompt }], max_tokens: 2, temperature: 0, ...extra,
    });
  } catch (e) {
    if (!(e instanceof OpenAI.BadRequestError && /chat template/.test(e.message))) throw e;
    return await client.completions.create({ model, prompt, max_tokens: 2, temperature: 0, ...extra });
  }
}

let right = 0;
for (const [i, c] of cases.entries()) {
  const reply = await ask('auto', c.prompt);
  const r = reply.routing ?? {};
  const ok = r.model === c.model && reply.model === c.model;
  if (ok) right++;
  console.log(`${ok ? 'ok  ' : 'MISS'} case ${i}: ${JSON.stringify(c.prompt.slice(0, 40))} -> ${r.model} ` +
              `(expected ${c.model}; ${r.category ?? '-'}, ${r.confidence}, ${r.reason})`);
  check(typeof r.confidence === 'number' && typeof r.reason === 'string', `case ${i}: confidence and reason`);
}
const accuracy = right / cases.length;
check(accuracy >= minAccuracy, `auto routed ${right} of ${cases.length} to the expected model (need ${minAccuracy})`);

// Completions and streams carry the same choice; the request without `model` is routed too.
const first = cases[0];
const comp = await client.completions.create({ model: 'auto', prompt: first.prompt, max_tokens: 2, temperature: 0 });
check(comp.routing?.model === first.model && comp.model === first.model, `completion routed to ${comp.routing?.model}`);
const stream = await ask('auto', first.prompt, { stream: true });
let firstChunk = null;
for await (const chunk of stream) firstChunk ??= chunk;
check(firstChunk?.routing?.model === first.model && firstChunk?.model === first.model,
      `first stream chunk routed to ${firstChunk?.routing?.model}`);
const unnamed = await client.post('/completions', { body: { prompt: first.prompt, max_tokens: 2, temperature: 0 } });
check(unnamed.routing?.model === first.model, `no model: routed to ${unnamed.routing?.model}`);

// The expert-routing extension keeps its keys beside the composition's.
const both = await ask('auto', first.prompt, { routing: { return: 'summary' } });
check(both.routing?.model === first.model && both.routing?.policy === 'server' && Array.isArray(both.routing?.layers),
      'routing has the composition keys and the expert-routing summary');

// Each model by name.
for (const name of ids.filter((id) => id !== 'auto')) {
  const named = await ask(name, 'Hello');
  check(named.model === name && named.routing?.model === name && named.routing?.reason === 'named in the request',
        `named ${name}`);
}

try {
  await client.chat.completions.create({ model: 'no-such-model', messages: [{ role: 'user', content: 'x' }] });
  check(false, 'unknown model: expected NotFoundError');
} catch (e) {
  check(e instanceof OpenAI.NotFoundError && e.status === 404 && e.code === 'model_not_found' && e.param === 'model',
        `unknown model: ${e.constructor.name} ${e.status} ${e.code}`);
}

console.log(failures === 0 ? 'composition client: all passed' : `composition client: ${failures} failed`);
process.exit(failures === 0 ? 0 : 1);
