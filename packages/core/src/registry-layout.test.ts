import { describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { archiveFolder, archiveKeyFromLocation, createdStamp, parseCreatedStamp } from './registry-layout.js';
import { version } from './version.js';

describe('registry layout', () => {
  const date = new Date(Date.UTC(2026, 10, 27, 9, 26, 14, 512));

  it('names archive folders and created stamps as Python modelstore does (in UTC)', () => {
    expect(archiveFolder(date)).toBe('2026.11.27-09.26.14');
    expect(createdStamp(date)).toBe('2026/11/27/09:26:14');
    expect(parseCreatedStamp('2026/11/27/09:26:14')).toBe(Date.UTC(2026, 10, 27, 9, 26, 14));
    expect(parseCreatedStamp('yesterday')).toBeNaN();
  });

  it('finds the archive key of a moved registry from the recorded location', () => {
    const key = 'operatorai-model-store/churn/2026.11.27-09.26.16/17482095/artifacts.tar.gz';
    expect(archiveKeyFromLocation({ path: `/tmp/ms-fx-4phkdm7l/registry-fs/${key}` })).toBe(key);
    expect(archiveKeyFromLocation({ prefix: `team/models/${key}` })).toBe(key);
    expect(archiveKeyFromLocation({ prefix: key })).toBe(key);
    expect(archiveKeyFromLocation({ path: 'C:\\models\\' + key.replaceAll('/', '\\') })).toBe(key);
    expect(archiveKeyFromLocation({ path: '/somewhere/else/artifacts.tar.gz' })).toBeUndefined();
    expect(archiveKeyFromLocation(undefined)).toBeUndefined();
  });

  it('records the version of the package that wrote a model', () => {
    const manifest = JSON.parse(readFileSync(path.join(__dirname, '..', 'package.json'), 'utf8')) as { version: string };
    expect(version).toBe(manifest.version);
  });
});
