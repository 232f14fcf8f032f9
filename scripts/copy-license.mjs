// Runs before `pnpm pack`/`publish` in a package: puts the repository's LICENSE in the tarball.
import { copyFileSync } from 'node:fs';

copyFileSync('../../LICENSE', 'LICENSE');
