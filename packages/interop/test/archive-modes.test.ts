// Empty folders and permission bits between Python modelstore (tarfile) and this library:
// what Python's tarfile writes for a model folder (tar.add, as Python modelstore does),
// that we extract it with the same tree and modes narrowed to at most 0o755, and that an
// archive we upload comes back from the real Python modelstore with the same tree and modes.
import { describe, expect, it } from '@jest/globals';
import { extractArchive } from '@modelstore/core';
import { execFile } from 'node:child_process';
import { chmodSync, createReadStream, mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { backends, interopEnv, nodeStore, pyOk, workDir } from './helpers.js';

function runPython(script: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(interopEnv().python, ['-c', script, ...args], { maxBuffer: 16 << 20 }, (error, stdout, stderr) => (error ? reject(new Error(`${error.message}\n${stderr}`)) : resolve(stdout)));
  });
}

/** Every path under `root` with its kind and mode, sorted. */
function tree(root: string, prefix = ''): Array<[string, string, string]> {
  const out: Array<[string, string, string]> = [];
  for (const name of readdirSync(root).sort()) {
    const full = path.join(root, name);
    const info = statSync(full);
    out.push([`${prefix}${name}`, info.isDirectory() ? 'dir' : `file:${info.size}`, (info.mode & 0o7777).toString(8)]);
    if (info.isDirectory()) out.push(...tree(full, `${prefix}${name}/`));
  }
  return out;
}

/** A SavedModel-like folder: empty assets/ and variables/, a 0-byte file, an executable, a private key, and a file open to all. */
function savedModel(): string {
  const folder = path.join(workDir('saved-model'), 'model');
  mkdirSync(path.join(folder, 'assets'), { recursive: true });
  mkdirSync(path.join(folder, 'variables'));
  mkdirSync(path.join(folder, 'bin'));
  writeFileSync(path.join(folder, 'saved_model.pb'), '');
  writeFileSync(path.join(folder, 'bin', 'serve.sh'), '#!/bin/sh\necho serving\n');
  writeFileSync(path.join(folder, 'secret.key'), 'key');
  writeFileSync(path.join(folder, 'open.txt'), 'open');
  chmodSync(path.join(folder, 'bin', 'serve.sh'), 0o755);
  chmodSync(path.join(folder, 'secret.key'), 0o600);
  chmodSync(path.join(folder, 'open.txt'), 0o777);
  chmodSync(path.join(folder, 'saved_model.pb'), 0o644);
  chmodSync(path.join(folder, 'assets'), 0o777);
  chmodSync(path.join(folder, 'variables'), 0o700);
  chmodSync(path.join(folder, 'bin'), 0o755);
  return folder;
}

const listMembers = `
import json, sys, tarfile
with tarfile.open(sys.argv[1], "r:gz") as tar:
    print(json.dumps([[m.name, "dir" if m.isdir() else "file:%d" % m.size, "%o" % m.mode] for m in tar.getmembers()]))
`;

describe("Python's tarfile and this library agree on folders and modes", () => {
  it('Python writes empty folders and full modes (tar.add, as Python modelstore); we extract the same tree, modes narrowed to 0o755 at most', async () => {
    const folder = savedModel();
    const archive = path.join(workDir('python-archive'), 'artifacts.tar.gz');
    await runPython(
      `
import os, sys, tarfile
folder, archive = sys.argv[1], sys.argv[2]
with tarfile.open(archive, "w:gz") as tar:
    for name in sorted(os.listdir(folder)):
        tar.add(name=os.path.join(folder, name), arcname=name)
`,
      [folder, archive],
    );
    const members = JSON.parse(await runPython(listMembers, [archive])) as Array<[string, string, string]>;
    expect([...members].sort(([a], [b]) => (a < b ? -1 : 1))).toEqual([
      ['assets', 'dir', '777'],
      ['bin', 'dir', '755'],
      ['bin/serve.sh', 'file:23', '755'],
      ['open.txt', 'file:4', '777'],
      ['saved_model.pb', 'file:0', '644'],
      ['secret.key', 'file:3', '600'],
      ['variables', 'dir', '700'],
    ]);
    const out = workDir('extracted');
    const digest = await extractArchive(createReadStream(archive), out);
    expect(digest.directories).toEqual(['assets', 'bin', 'variables']);
    expect(tree(out)).toEqual([
      ['assets', 'dir', '755'],
      ['bin', 'dir', '755'],
      ['bin/serve.sh', 'file:23', '755'],
      ['open.txt', 'file:4', '755'],
      ['saved_model.pb', 'file:0', '644'],
      ['secret.key', 'file:3', '600'],
      ['variables', 'dir', '700'],
    ]);
  });

  it('our archive, uploaded with the RawAdapter, is downloaded by Python modelstore with the same tree and modes', async () => {
    const registry = backends()
      .find((backend) => backend.name === 'fs')!
      .create();
    const store = nodeStore(registry.node);
    const metadata = await store.upload('modes', { model: savedModel() });
    expect(metadata.archive?.directories).toEqual(['assets', 'bin', 'variables']);
    const expected: Array<[string, string, string]> = [
      ['assets', 'dir', '755'],
      ['bin', 'dir', '755'],
      ['bin/serve.sh', 'file:23', '755'],
      ['model-info.json', 'file:24', '644'],
      ['open.txt', 'file:4', '755'],
      ['saved_model.pb', 'file:0', '644'],
      ['secret.key', 'file:3', '600'],
      ['variables', 'dir', '700'],
    ];
    // What the archive records, read by Python's tarfile: already narrowed.
    // A file-system registry records the archive's absolute path, as Python modelstore does.
    const archivePath = metadata.storage.path!;
    const members = JSON.parse(await runPython(listMembers, [archivePath])) as Array<[string, string, string]>;
    expect([...members].sort(([a], [b]) => (a < b ? -1 : 1))).toEqual(expected);
    // Python modelstore's download (tarfile.extractall) gives the same tree and modes.
    const to = workDir('python-download');
    await pyOk(registry.python, [{ op: 'download', domain: 'modes', model_id: metadata.model.model_id, to }]);
    expect(tree(to)).toEqual(expected);
    // And ours.
    const ours = await store.download('modes', { to: path.join(workDir('node-download'), 'model') });
    expect(tree(ours)).toEqual(expected);
  });
});
