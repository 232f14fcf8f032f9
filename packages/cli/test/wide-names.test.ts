// Tables with names in any script: columns line up by terminal width (CJK and fullwidth
// characters take two columns, accents one), counted independently here from code points.
import { describe, expect, it } from '@jest/globals';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { modelstore } from './helpers.js';

/** Columns by the rule for these test names: CJK ideographs and fullwidth forms are wide, everything else here is narrow. */
const columns = (text: string) => [...text].reduce((sum, char) => sum + (/[\u4e00-\u9fff\uff01-\uff60]/u.test(char) ? 2 : 1), 0);

describe('modelstore tables with wide characters', () => {
  it('aligns `ls` domains and `info` files whose names hold CJK, fullwidth and accented characters', async () => {
    const work = mkdtempSync(path.join(tmpdir(), 'modelstore-cli-wide-'));
    try {
      const cli = (...args: string[]) => modelstore(['--store', './registry', ...args], { cwd: work });
      const domains = ['模型', 'a～b', 'plain-domain', 'café'];
      for (const [index, domain] of domains.entries()) {
        const file = path.join(work, `${['重み', 'ｗｅｉｇｈｔｓ', 'w', 'poids-é'][index]}.bin`);
        writeFileSync(file, `weights ${index}`);
        expect((await cli('upload', domain, file)).code).toBe(0);
      }
      const listed = await cli('ls');
      expect(listed.code).toBe(0);
      const lines = listed.stdout.trimEnd().split('\n');
      expect(lines).toHaveLength(domains.length + 1);
      // The second column starts at the same terminal column on every line.
      const starts = lines.map((line) => columns(line.slice(0, line.search(/ {2,}\S/) + line.slice(line.search(/ {2,}\S/)).search(/\S/))));
      expect(new Set(starts).size).toBe(1);
      expect(starts[0]).toBe(Math.max(...domains.map(columns), 'DOMAIN'.length) + 2);

      const info = await cli('info', '模型');
      expect(info.code).toBe(0);
      expect(info.stdout).toMatch(/files:\n {2}重み\.bin {2}/);
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  }, 120_000);
});
