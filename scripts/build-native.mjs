// Builds LFTP's batched datagram addon (common/lftp/native/lftp_batch.c) into build/native/, at `npm install`
// (prepare) and by `npm run build:native`. One C file, Linux only: a direct compiler call, not node-gyp (which
// needs Python and make, generates a project for one file, and fetches headers from the network when its
// nodedir is wrong; CI is offline). The headers are the ones the `node` package ships (N-API, libuv, OpenSSL);
// the OpenSSL and N-API symbols resolve at load time against the node binary itself. Nothing here may fail an
// install: without a compiler, headers or Linux, it says so in one line and LFTP uses dgram + node:crypto.
// LFTP_NATIVE_BUILD=0 skips it; CC names the compiler (default cc); LFTP_NATIVE_OUT another output folder.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const source = join(root, 'common', 'lftp', 'native', 'lftp_batch.c');
const outDir = process.env.LFTP_NATIVE_OUT ?? join(root, 'build', 'native');
const out = join(outDir, 'lftp_batch.node');

function skip(why) {
  console.log(`lftp native addon not built (${why}): LFTP will use dgram + node:crypto`);
  process.exit(0);
}

/** Node's headers: the node package's (the Node that runs the project), else the running node's, else npm's nodedir. */
function headers() {
  const candidates = [
    join(root, 'node_modules', 'node', 'node_modules', `node-${process.platform}-${process.arch}`, 'include', 'node'),
    join(dirname(process.execPath), '..', 'include', 'node'),
    process.env.npm_config_nodedir && join(process.env.npm_config_nodedir, 'include', 'node'),
  ].filter(Boolean);
  return candidates.find((d) => existsSync(join(d, 'node_api.h')) && existsSync(join(d, 'openssl', 'evp.h')));
}

if (process.env.LFTP_NATIVE_BUILD === '0') skip('LFTP_NATIVE_BUILD=0');
if (process.platform !== 'linux') skip(`sendmmsg and UDP GSO are Linux's; this is ${process.platform}`);
const include = headers();
if (!include) skip("no Node headers with OpenSSL's found");
const cc = process.env.CC || 'cc';
mkdirSync(outDir, { recursive: true });
const tmp = `${out}.${process.pid}.tmp`;
const args = ['-O2', '-fPIC', '-shared', '-fvisibility=hidden', '-Wall', '-I', include, '-o', tmp, source];
const r = spawnSync(cc, args, { encoding: 'utf8', timeout: 120_000 });
if (r.error || r.status !== 0) {
  rmSync(tmp, { force: true });
  const detail = r.error ? r.error.message : (r.stderr.trim().split('\n')[0] ?? `exit ${r.status}`);
  skip(`${cc} failed: ${detail}`);
}
// Renamed into place: a process loading the addon meanwhile sees the old file or the new one, never half of one.
renameSync(tmp, out);
console.log(`lftp native addon built: ${out}`);
