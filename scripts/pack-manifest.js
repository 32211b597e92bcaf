// The package.json that goes into the tarball has no `prepare` script.
//
// Why: `prepare` builds dist/ when a git clone runs `npm ci` (dist/ is not in git). In a packed
// tarball dist/ is already built, and npm 11 lists a tarball's `prepare` among the install
// scripts "not yet covered by allowScripts", so every user installing the tarball was told to
// review a script that npm never runs for them. `prepack` removes it, `postpack` puts it back.
//
//   node scripts/pack-manifest.js strip     # prepack
//   node scripts/pack-manifest.js restore   # postpack
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const manifest = join(root, 'package.json');
// Kept under node_modules: never committed, never packed.
const stash = join(root, 'node_modules', '.rethumb-prepare-script');

const pkg = JSON.parse(readFileSync(manifest, 'utf8'));
const write = () => writeFileSync(manifest, `${JSON.stringify(pkg, null, 2)}\n`);

switch (process.argv[2]) {
  case 'strip':
    if (pkg.scripts?.prepare !== undefined) {
      mkdirSync(dirname(stash), { recursive: true });
      writeFileSync(stash, pkg.scripts.prepare);
      delete pkg.scripts.prepare;
      write();
    }
    break;
  case 'restore':
    if (existsSync(stash)) {
      // `prepare` goes back where it was: right after `build`.
      /** @type {Record<string, string>} */
      const scripts = {};
      for (const [name, command] of Object.entries(pkg.scripts ?? {})) {
        scripts[name] = command;
        if (name === 'build') scripts.prepare = readFileSync(stash, 'utf8');
      }
      scripts.prepare ??= readFileSync(stash, 'utf8');
      pkg.scripts = scripts;
      write();
      rmSync(stash);
    }
    break;
  default:
    console.error('usage: node scripts/pack-manifest.js strip|restore');
    process.exit(2);
}
