#!/usr/bin/env python3
"""Checks `switchyard inspect --json` against the GGUF file itself, read here by an independent parser.

usage: inspect_check.py check REPORT.json FILE.gguf
       inspect_check.py write-unknown OUT.gguf     (a small valid GGUF of an architecture nobody knows)
"""
import json
import struct
import sys

SCALARS = {0: 'B', 1: 'b', 2: 'H', 3: 'h', 4: 'I', 5: 'i', 6: 'f', 7: '?', 10: 'Q', 11: 'q', 12: 'd'}


def read_gguf(path):
    with open(path, 'rb') as f:
        data = f.read()
    pos = 0

    def take(fmt):
        nonlocal pos
        v = struct.unpack_from('<' + fmt, data, pos)
        pos += struct.calcsize('<' + fmt)
        return v[0]

    def string():
        nonlocal pos
        n = take('Q')
        s = data[pos:pos + n].decode('utf-8', 'replace')
        pos += n
        return s

    def value(t):
        if t == 8:
            return string()
        if t == 9:
            et, n = take('I'), take('Q')
            return [value(et) for _ in range(n)]
        return take(SCALARS[t])

    assert take('I') == 0x46554747, 'not a GGUF file'
    take('I')
    n_tensors, n_kv = take('Q'), take('Q')
    meta = {}
    for _ in range(n_kv):
        k = string()
        meta[k] = value(take('I'))
    tensors = []
    for _ in range(n_tensors):
        name = string()
        nd = take('I')
        ne = [take('Q') for _ in range(nd)]
        tensors.append((name, ne, take('I')))
        take('Q')
    return meta, tensors


def fail(msg):
    print('inspect_check: FAIL: ' + msg, file=sys.stderr)
    sys.exit(1)


def expect(cond, msg):
    if not cond:
        fail(msg)


def check(report_path, gguf_path):
    with open(report_path) as f:
        r = json.load(f)
    meta, tensors = read_gguf(gguf_path)
    arch = meta.get('general.architecture')
    expect(r['schema_version'] == 1, 'schema_version')
    expect(r['architecture'] == arch, 'architecture %r vs %r' % (r['architecture'], arch))
    expect(r['file']['n_tensors'] == len(tensors), 'tensor count')
    expect(len(r['tensors']) == len(tensors), 'tensor rows')
    expect([t['name'] for t in r['tensors']] == [t[0] for t in tensors], 'tensor names/order')
    for row, (name, ne, _) in zip(r['tensors'], tensors):
        expect(row['shape'] == ne, '%s shape %r vs %r' % (name, row['shape'], ne))
    n_elements = sum(t['n_elements'] for t in r['tensors'])
    expect(r['params']['total'] == n_elements, 'params.total is the sum of n_elements')
    expect(r['bytes']['total'] == sum(t['bytes'] for t in r['tensors']), 'bytes.total is the sum of bytes')
    expect(len(r['metadata']) == len(meta), 'metadata count')
    tok = r['tokenizer']
    if 'tokenizer.ggml.model' in meta:
        expect(tok['model'] == meta['tokenizer.ggml.model'], 'tokenizer model')
        tokens = meta.get('tokenizer.ggml.tokens')
        expect(tok['n_vocab'] == (len(tokens) if tokens is not None else None), 'tokenizer n_vocab')
        expect(tok['bos_id'] == meta.get('tokenizer.ggml.bos_token_id'), 'bos id')
        expect(tok['eos_id'] == meta.get('tokenizer.ggml.eos_token_id'), 'eos id')
        expect(tok['chat_template'] == ('tokenizer.chat_template' in meta), 'chat template presence')
    else:
        expect(tok is None, 'no tokenizer')
    if not r['supported']:
        expect(r['notes'], 'an unsupported file carries a note')
        expect(r['routing'] is None and r['params']['active_per_token'] is None, 'no routing for unknown arch')
        return
    h, rt = r['hparams'], r['routing']
    expect(h['n_layer'] == meta[arch + '.block_count'], 'n_layer')
    expect(h['n_embd'] == meta[arch + '.embedding_length'], 'n_embd')
    b = r['bytes']
    if rt is None:  # dense: no experts anywhere
        expect(meta.get(arch + '.expert_count', 0) == 0, 'a file with experts reported as dense')
        expect(b['routed_experts'] == 0 and b['per_expert_per_layer'] == [], 'dense has no expert bytes')
        return
    expect(rt['n_expert'] == meta[arch + '.expert_count'], 'n_expert %r' % rt['n_expert'])
    expect(rt['n_expert_used'] == meta[arch + '.expert_used_count'], 'n_expert_used')
    if arch + '.expert_shared_count' in meta:
        expect(rt['n_shared_experts'] == meta[arch + '.expert_shared_count'], 'shared experts')
    if arch + '.leading_dense_block_count' in meta:
        expect(rt['leading_dense_layers'] == meta[arch + '.leading_dense_block_count'], 'leading dense layers')
    expect(b['routed_experts'] + b['shared_experts'] + b['non_expert'] == b['total'], 'byte split adds up')
    expect(0 < r['params']['active_per_token'] < r['params']['total'], 'active < total')
    expect(len(b['per_expert_per_layer']) == rt['n_moe_layers'], 'one per-expert entry per MoE layer')
    for e in b['per_expert_per_layer']:
        expect(e['bytes'] * e['n_expert'] <= b['routed_experts'], 'per-expert bytes')
    m = r['memory']
    expect(m['total_bytes'] == m['weights_bytes'] + m['kv_cache_bytes'], 'memory adds up')


def write_unknown(path):
    def s(x):
        b = x.encode()
        return struct.pack('<Q', len(b)) + b
    kv = [(s('general.architecture'), 8, s('mystery')), (s('mystery.block_count'), 4, struct.pack('<I', 2)),
          (s('tokenizer.ggml.model'), 8, s('gpt2'))]
    out = struct.pack('<IIQQ', 0x46554747, 3, 1, len(kv))
    for k, t, v in kv:
        out += k + struct.pack('<I', t) + v
    out += s('mystery.weight') + struct.pack('<I', 1) + struct.pack('<Q', 8) + struct.pack('<IQ', 0, 0)
    out += b'\0' * ((32 - len(out) % 32) % 32)
    out += struct.pack('<8f', *range(8))
    with open(path, 'wb') as f:
        f.write(out)


if __name__ == '__main__':
    if sys.argv[1] == 'check':
        check(sys.argv[2], sys.argv[3])
    elif sys.argv[1] == 'write-unknown':
        write_unknown(sys.argv[2])
    else:
        fail('unknown subcommand')
