// tsc writes dist/ with mode 0644. npm sets the exec bit on a package's bins only when it links them, and
// `npm ci` links the project's own bins before its prepare script has built dist/, so a fresh clone's
// `npx chat-client` failed with "Permission denied". Every build marks the bins itself.
import { chmodSync, readFileSync } from 'node:fs';

const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
for (const file of Object.values(pkg.bin)) chmodSync(new URL(`../${file}`, import.meta.url), 0o755);
