// Unit tests of local destinations: what prepareDestination accepts and refuses, stale
// staging removal (dead pids of this host only), staging names under 255 bytes, the
// move into place, and localError.
import { describe, expect, it } from '@jest/globals';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import path from 'node:path';
import { DestinationExistsError, IntegrityError, LocalFileError } from '../errors.js';
import { folderPerTest, rejection } from '../../test/support.js';
import { localError, placeVerified, prepareDestination, removeStaleStaging, stagingPrefix, type Destination } from './destination.js';

const host = createHash('sha256').update(hostname()).digest('hex').slice(0, 8);
/** Above the largest pid_max Linux allows (2^22): never a live process. */
const deadPid = 4_194_305;
const hex = 'abcdef012345';

const folder = folderPerTest('modelstore-destination-');

describe('removeStaleStaging', () => {
  it("removes this host's staging folders of dead processes only", async () => {
    const to = path.join(folder.path, 'model');
    const prefix = stagingPrefix.beside(to);
    const names = {
      dead: `${prefix}${host}-${deadPid}-${hex}`,
      deadOld: `${prefix}${host}-${deadPid}-${hex}-old`,
      live: `${prefix}${host}-${process.pid}-${hex}`,
      otherUser: `${prefix}${host}-1-${hex}`,
      otherHost: `${prefix}0badc0de-${deadPid}-${hex}`,
      oddShape: `${prefix}${host}-${deadPid}-xyz`,
      otherDestination: `.other${'.modelstore-staging-'}${host}-${deadPid}-${hex}`,
    };
    for (const name of Object.values(names)) mkdirSync(path.join(folder.path, name));
    writeFileSync(path.join(folder.path, names.dead, 'partial.bin'), 'x');
    const removed = await removeStaleStaging(folder.path, prefix);
    expect(removed.sort()).toEqual([path.join(folder.path, names.dead), path.join(folder.path, names.deadOld)].sort());
    expect(readdirSync(folder.path).sort()).toEqual([names.live, names.otherUser, names.otherHost, names.oddShape, names.otherDestination].sort());
  });

  it('without a prefix, removes every dead staging folder in the folder, whatever destination it was for', async () => {
    const names = [`.a${'.modelstore-staging-'}${host}-${deadPid}-${hex}`, `.modelstore-staging-${host}-${deadPid}-${hex}`, `.b.modelstore-staging-${host}-${process.pid}-${hex}`, 'model'];
    for (const name of names) mkdirSync(path.join(folder.path, name));
    expect((await removeStaleStaging(folder.path)).map((full) => path.basename(full)).sort()).toEqual([names[0], names[1]].sort());
    expect(readdirSync(folder.path).sort()).toEqual([names[2], names[3]].sort());
  });

  it('is empty for a folder that does not exist', async () => {
    expect(await removeStaleStaging(path.join(folder.path, 'none'))).toEqual([]);
  });
});

describe('staging names', () => {
  it('keep a long destination name under 255 bytes, without splitting a character, and distinct per name', async () => {
    const long = (last: string) => `${'é'.repeat(120)}${last}`; // 241 bytes
    const prefixA = stagingPrefix.beside(path.join(folder.path, long('a')));
    const prefixB = stagingPrefix.beside(path.join(folder.path, long('b')));
    expect(prefixA).not.toBe(prefixB);
    expect(prefixA).not.toContain('\ufffd');
    expect(prefixA.startsWith(`.${'é'.repeat(24)}~`)).toBe(true);
    const destination = await prepareDestination(path.join(folder.path, long('a')), {});
    expect(Buffer.byteLength(path.basename(destination.staging))).toBeLessThan(255);
    expect(existsSync(destination.staging)).toBe(true);
  });

  it('repeat a short destination name as it is', () => {
    expect(stagingPrefix.beside(path.join(folder.path, 'model'))).toBe('.model.modelstore-staging-');
    expect(stagingPrefix.beside(path.join(folder.path, 'x'.repeat(64)))).toBe(`.${'x'.repeat(64)}.modelstore-staging-`);
    expect(stagingPrefix.beside(path.join(folder.path, 'x'.repeat(65)))).toMatch(/^\.x{48}~[0-9a-f]{12}\.modelstore-staging-$/);
  });
});

describe('prepareDestination', () => {
  it('accepts a missing destination, creating its parents and a staging folder beside it', async () => {
    const to = path.join(folder.path, 'a', 'b', 'model');
    const destination = await prepareDestination(to, {});
    expect(destination).toMatchObject({ directory: to, mode: 'rename', createdParent: path.join(folder.path, 'a') });
    expect(path.dirname(destination.staging)).toBe(path.join(folder.path, 'a', 'b'));
    expect(path.basename(destination.staging).startsWith(`.model.modelstore-staging-${host}-${process.pid}-`)).toBe(true);
  });

  it('accepts an empty folder, and one holding only staging folders', async () => {
    const to = path.join(folder.path, 'model');
    mkdirSync(path.join(to, `.modelstore-staging-${host}-${process.pid}-${hex}`), { recursive: true });
    expect((await prepareDestination(to, {})).createdParent).toBeUndefined();
  });

  it('refuses a non-empty folder without overwrite or keepExisting, and accepts it with either', async () => {
    const to = path.join(folder.path, 'model');
    mkdirSync(to);
    writeFileSync(path.join(to, 'old.bin'), 'old');
    expect(await rejection(prepareDestination(to, {}))).toBeInstanceOf(DestinationExistsError);
    // An existing folder is filled in place (its inode, owner, mode, mounts and anyone's cwd kept).
    expect((await prepareDestination(to, { overwrite: true })).mode).toBe('in-place');
    expect((await prepareDestination(to, { keepExisting: true })).mode).toBe('rename');
  });

  it('refuses a file, a dangling link and a link to a file; follows a link to a folder', async () => {
    writeFileSync(path.join(folder.path, 'file'), 'x');
    symlinkSync(path.join(folder.path, 'nowhere'), path.join(folder.path, 'dangling'));
    symlinkSync(path.join(folder.path, 'file'), path.join(folder.path, 'to-file'));
    mkdirSync(path.join(folder.path, 'real'));
    symlinkSync(path.join(folder.path, 'real'), path.join(folder.path, 'to-dir'));
    for (const name of ['file', 'dangling', 'to-file']) {
      const error = await rejection(prepareDestination(path.join(folder.path, name), {}));
      expect(DestinationExistsError.isInstance(error)).toBe(true);
      expect((error as DestinationExistsError).path).toBe(path.join(folder.path, name));
    }
    expect((await prepareDestination(path.join(folder.path, 'to-dir'), {})).directory).toBe(path.join(folder.path, 'real'));
  });

  it('removes stale staging of a dead process beside the destination, and keeps a live one', async () => {
    const to = path.join(folder.path, 'model');
    const dead = path.join(folder.path, `.model.modelstore-staging-${host}-${deadPid}-${hex}`);
    const live = path.join(folder.path, `.model.modelstore-staging-${host}-${process.pid}-${hex}`);
    mkdirSync(dead);
    mkdirSync(live);
    await prepareDestination(to, {});
    expect(existsSync(dead)).toBe(false);
    expect(existsSync(live)).toBe(true);
  });

  it('is LocalFileError (with errno) when the parent path runs through a file', async () => {
    writeFileSync(path.join(folder.path, 'file'), 'x');
    const error = await rejection(prepareDestination(path.join(folder.path, 'file', 'model'), {}));
    expect(LocalFileError.isInstance(error)).toBe(true);
    expect((error as LocalFileError).errno).toBe('ENOTDIR');
  });
});

describe('placeVerified', () => {
  const stage = async (to: string, options: { overwrite?: boolean; keepExisting?: boolean } = {}) => {
    const destination = await prepareDestination(to, options);
    writeFileSync(path.join(destination.staging, 'new.bin'), 'new');
    return destination;
  };

  it('renames staging onto a missing or empty destination', async () => {
    const to = path.join(folder.path, 'model');
    const destination = await stage(to);
    expect(await placeVerified(destination, {})).toBe(true);
    expect(readdirSync(to)).toEqual(['new.bin']);
    expect(readdirSync(folder.path)).toEqual(['model']);
  });

  it('replaces a destination filled meanwhile only with overwrite, keeps it with keepExisting, else refuses', async () => {
    const to = path.join(folder.path, 'model');
    for (const options of [{}, { keepExisting: true }, { overwrite: true }]) {
      rmSync(to, { recursive: true, force: true });
      const destination = await stage(to);
      mkdirSync(to, { recursive: true });
      writeFileSync(path.join(to, 'other.bin'), 'other');
      const outcome = await rejection(
        placeVerified(destination, options).then((placed) => {
          throw new IntegrityError(`placed: ${placed}`);
        }),
      );
      if ('overwrite' in options) expect((outcome as Error).message).toBe('placed: true');
      else if ('keepExisting' in options) expect((outcome as Error).message).toBe('placed: false');
      else expect(outcome).toBeInstanceOf(DestinationExistsError);
      expect(readdirSync(to)).toEqual('overwrite' in options ? ['new.bin'] : ['other.bin']);
      // Nothing left beside it but the staging folder of a refused or kept placement (the caller removes it).
      expect(readdirSync(folder.path).filter((name) => name !== 'model' && name !== path.basename(destination.staging))).toEqual([]);
      rmSync(destination.staging, { recursive: true, force: true });
    }
  });

  it('in place: moves the entries in, and with overwrite moves the old ones out first', async () => {
    const to = path.join(folder.path, 'mount');
    mkdirSync(to);
    writeFileSync(path.join(to, 'old.bin'), 'old');
    const staging = path.join(to, `.modelstore-staging-${host}-${process.pid}-${hex}`);
    mkdirSync(staging);
    writeFileSync(path.join(staging, 'new.bin'), 'new');
    const destination: Destination = { directory: to, mode: 'in-place', staging, createdParent: undefined };
    expect(await rejection(placeVerified(destination, {}))).toBeInstanceOf(DestinationExistsError);
    expect(await placeVerified(destination, { keepExisting: true })).toBe(false);
    expect(await placeVerified(destination, { overwrite: true })).toBe(true);
    expect(readdirSync(to)).toEqual(['new.bin']);
    expect(readFileSync(path.join(to, 'new.bin'), 'utf8')).toBe('new');
  });
});

describe('localError', () => {
  it('wraps an errno error in LocalFileError with the path, the errno and a hint', () => {
    const error = localError(Object.assign(new Error('no space left on device'), { code: 'ENOSPC' }), '/models/x', 'write the model into') as LocalFileError;
    expect(LocalFileError.isInstance(error)).toBe(true);
    expect(error.path).toBe('/models/x');
    expect(error.errno).toBe('ENOSPC');
    expect(error.message).toContain('the disk is full');
    expect(error.message).toContain('Could not write the model into "/models/x" (ENOSPC)');
  });

  it('uses the original message for an errno it has no hint for, and passes typed and errno-less errors through', () => {
    const odd = localError(Object.assign(new Error('weird thing'), { code: 'EWEIRD' }), '/x', 'read') as LocalFileError;
    expect(odd.message).toContain('(EWEIRD): weird thing');
    const typed = new DestinationExistsError('/x');
    expect(localError(typed, '/x', 'read')).toBe(typed);
    const plain = new Error('plain');
    expect(localError(plain, '/x', 'read')).toBe(plain);
  });
});
