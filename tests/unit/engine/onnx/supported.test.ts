/*
 * The README's table of ONNX ops is the code's list (SUPPORTED_OPS), so neither can drift: a rule
 * added without a README line, or a README op without a rule, fails here.
 */
import { describe, it, expect } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { RULES, SUPPORTED_OPS } from '../../../../src/engine/onnx/rules';

const README = readFileSync(join(__dirname, '../../../../README.md'), 'utf8');

function table(): Record<string, string[]> {
  const block = /<!-- onnx-ops:begin -->([\s\S]*?)<!-- onnx-ops:end -->/.exec(README);
  if (!block) throw new Error('README.md has no <!-- onnx-ops:begin --> ... <!-- onnx-ops:end --> block');
  const rows: Record<string, string[]> = {};
  for (const line of block[1].split('\n')) {
    const cells = line.split('|').map((c) => c.trim());
    if (cells.length < 4 || !cells[2].includes('`')) continue;
    rows[cells[1]] = [...cells[2].matchAll(/`([A-Za-z]+)`/g)].map((m) => m[1]);
  }
  return rows;
}

const row = (ops: readonly string[]): string => ops.map((o) => `\`${o}\``).join(', ');

describe('the supported ONNX ops', () => {
  it('the README table lists exactly SUPPORTED_OPS', () => {
    const t = table();
    const expected = {
      'With a backward rule': [...SUPPORTED_OPS.differentiable],
      'Folded when compiling': [...SUPPORTED_OPS.folded],
      'Read as constants': [...SUPPORTED_OPS.read]
    };
    // On a mismatch, the message holds the rows to paste.
    expect(
      t,
      Object.entries(expected)
        .map(([k, v]) => `| ${k} | ${row(v)} |`)
        .join('\n')
    ).toEqual(expected);
  });

  it('lists every op with a rule', () => {
    expect(SUPPORTED_OPS.differentiable).toEqual(Object.keys(RULES).sort());
  });
});
