// The official `openai` npm client against `switchyard serve`: chat (plain and streamed), completions, models,
// logprobs, stop strings, the routing extension, and the client's error types for 400, 401 and 404.
// Usage: node openai_client.mjs NODE_MODULES_DIR BASE_URL API_KEY MODEL_ID
import { createRequire } from 'node:module';
import path from 'node:path';

const [modulesDir, baseURL, apiKey, modelId] = process.argv.slice(2);
const require = createRequire(path.join(modulesDir, 'package.json'));
const OpenAI = require('openai').default ?? require('openai');

let failures = 0;
function check(cond, what) {
  if (cond) { console.log(`ok   ${what}`); } else { console.log(`FAIL ${what}`); failures++; }
}
async function expectError(promise, type, status, what) {
  try {
    await promise;
    check(false, `${what}: expected ${type.name}, got a reply`);
  } catch (e) {
    check(e instanceof type && e.status === status, `${what}: ${e.constructor.name} ${e.status} ${e.message}`);
    return e;
  }
}

const client = new OpenAI({ baseURL, apiKey, maxRetries: 0, timeout: 120000 });
const messages = [{ role: 'system', content: 'You are terse.' }, { role: 'user', content: 'Tell me about the sea.' }];

const models = await client.models.list();
check(models.data.length === 1 && models.data[0].id === modelId, `models.list: ${models.data.map((m) => m.id)}`);
const model = await client.models.retrieve(modelId);
check(model.id === modelId, 'models.retrieve');

const plain = await client.chat.completions.create({ model: modelId, messages, max_tokens: 24, temperature: 0 });
const text = plain.choices[0].message.content;
check(typeof text === 'string' && text.length > 0, `chat: ${JSON.stringify(text)}`);
check(['stop', 'length'].includes(plain.choices[0].finish_reason), `chat finish_reason ${plain.choices[0].finish_reason}`);
check(plain.usage.prompt_tokens > 0 && plain.usage.completion_tokens > 0 &&
      plain.usage.total_tokens === plain.usage.prompt_tokens + plain.usage.completion_tokens, 'chat usage');

// The same request streamed gives the same text (greedy; its prompt prefix is reused from the first).
const stream = await client.chat.completions.create({
  model: modelId, messages, max_tokens: 24, temperature: 0, stream: true, stream_options: { include_usage: true },
});
let streamed = '';
let finish = null;
let usage = null;
let chunks = 0;
for await (const chunk of stream) {
  chunks++;
  if (chunk.usage) usage = chunk.usage;
  for (const c of chunk.choices) {
    streamed += c.delta?.content ?? '';
    if (c.finish_reason) finish = c.finish_reason;
  }
}
check(streamed === text, `streamed chat equals plain chat (${chunks} chunks)`);
check(finish === plain.choices[0].finish_reason, `streamed finish_reason ${finish}`);
check(usage && usage.completion_tokens === plain.usage.completion_tokens, 'streamed usage (include_usage)');

const comp = await client.completions.create({ model: modelId, prompt: 'The old lighthouse', max_tokens: 20, temperature: 0 });
const ctext = comp.choices[0].text;
check(typeof ctext === 'string' && ctext.length > 0, `completion: ${JSON.stringify(ctext)}`);
const cstream = await client.completions.create({
  model: modelId, prompt: 'The old lighthouse', max_tokens: 20, temperature: 0, stream: true,
});
let cstreamed = '';
for await (const chunk of cstream) for (const c of chunk.choices) cstreamed += c.text ?? '';
check(cstreamed === ctext, 'streamed completion equals plain completion');

// max_tokens is honoured exactly when no stop token comes first.
const one = await client.completions.create({ model: modelId, prompt: 'Hello', max_tokens: 1, temperature: 0 });
check(one.usage.completion_tokens === 1 && one.choices[0].finish_reason === 'length', 'max_tokens 1');

// A stop string cuts the text before it.
const cut = ctext.trim().split(/\s+/)[1];
if (cut) {
  const stopped = await client.completions.create({
    model: modelId, prompt: 'The old lighthouse', max_tokens: 20, temperature: 0, stop: [cut],
  });
  const want = ctext.slice(0, ctext.indexOf(cut));
  check(stopped.choices[0].text === want && stopped.choices[0].finish_reason === 'stop',
        `stop ${JSON.stringify(cut)}: ${JSON.stringify(stopped.choices[0].text)}`);
}

const lp = await client.chat.completions.create({
  model: modelId, messages, max_tokens: 8, temperature: 0, logprobs: true, top_logprobs: 3,
});
const content = lp.choices[0].logprobs?.content ?? [];
check(content.length === lp.usage.completion_tokens && content.every((t) => t.logprob <= 0 &&
      t.top_logprobs.length === 3 && t.top_logprobs[0].logprob >= t.logprob - 1e-6), 'logprobs / top_logprobs');

// A seeded sampled request repeats itself.
const s1 = await client.chat.completions.create({ model: modelId, messages, max_tokens: 16, temperature: 1, seed: 7 });
const s2 = await client.chat.completions.create({ model: modelId, messages, max_tokens: 16, temperature: 1, seed: 7 });
check(s1.choices[0].message.content === s2.choices[0].message.content, 'seed repeats a sampled reply');

// The routing extension passes through the client as an extra body field.
const routed = await client.chat.completions.create({
  model: modelId, messages, max_tokens: 6, temperature: 0, routing: { policy: 'top-k:1', return: 'per_token' },
});
const r = routed.routing;
check(r && r.policy === 'top-k:1' && r.layers.length > 0 && r.tokens.length === routed.usage.completion_tokens &&
      r.tokens.every((t) => t.experts.every((e) => e.length === 1)), 'routing per_token with top-k:1');

const e400 = await expectError(client.chat.completions.create({ model: modelId, messages, temperature: 7 }),
                               OpenAI.BadRequestError, 400, '400 temperature out of range');
check(e400?.param === 'temperature', `400 names the field: ${e400?.param}`);
const e400b = await expectError(client.chat.completions.create({ model: modelId, messages: [] }),
                                OpenAI.BadRequestError, 400, '400 empty messages');
check(e400b?.param === 'messages', `400 names the field: ${e400b?.param}`);
await expectError(client.completions.create({ model: modelId, prompt: 'x', routing: { policy: 'top-q:3' } }),
                  OpenAI.BadRequestError, 400, '400 bad routing policy');
const bad = new OpenAI({ baseURL, apiKey: 'wrong-key', maxRetries: 0, timeout: 30000 });
await expectError(bad.models.list(), OpenAI.AuthenticationError, 401, '401 wrong key');
await expectError(client.models.retrieve('no-such-model'), OpenAI.NotFoundError, 404, '404 unknown model');
await expectError(client.get('/no/such/route'), OpenAI.NotFoundError, 404, '404 unknown route');

console.log(failures === 0 ? 'openai client: all passed' : `openai client: ${failures} failed`);
process.exit(failures === 0 ? 0 : 1);
