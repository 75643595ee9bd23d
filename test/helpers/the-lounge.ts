/**
 * The Lounge (npm `thelounge`, a devDependency) for end-to-end tests of the
 * IRC door: a home of its own in a temporary folder (config.js, one user made
 * with its own `thelounge add`), started in private mode on 127.0.0.1 and a
 * port the system picks, its one network locked to the test's IRC door.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { LineProcess, tempDir } from './processes.js';

const require = createRequire(import.meta.url);
const THELOUNGE_JS = require.resolve('thelounge/index.js');
const CHANGELOG_JS = require.resolve('thelounge/dist/server/plugins/changelog.js');
const PACKAGES_JS = require.resolve('thelounge/dist/server/plugins/packages/index.js');

/**
 * Loaded before The Lounge with --require. It asks GitHub for its releases at
 * start and when its changelog is opened, and npm for its themes' updates:
 * traffic off this machine, which tests never send. Its exports are objects
 * the server calls through, so replacing the functions there is enough.
 */
const OFFLINE_PRELOAD = `
const changelog = require(${JSON.stringify(CHANGELOG_JS)}).default;
changelog.checkForUpdates = () => {};
changelog.fetch = async () => ({ current: undefined, expiresAt: Date.now() + 3600e3, latest: undefined, packages: false });
require(${JSON.stringify(PACKAGES_JS)}).default.outdated = async () => false;
`;

export interface LoungeOptions {
  ircPort: number;
  tls: boolean;
  /** The nick The Lounge's connect form offers. */
  nick: string;
  user: string;
  password: string;
}

export interface Lounge {
  proc: LineProcess;
  url: string;
}

function config(o: LoungeOptions): string {
  const defaults = {
    name: 'heartbeat',
    host: '127.0.0.1',
    port: o.ircPort,
    password: '',
    tls: o.tls,
    // The door's certificate is the test server's own, self-signed.
    rejectUnauthorized: false,
    nick: o.nick,
    username: 'lounge',
    realname: 'The Lounge user',
    join: '#lobby',
    leaveMessage: 'bye from The Lounge',
  };
  const values = {
    public: false,
    host: '127.0.0.1',
    port: 0,
    // Node's own SQLite would do, but the test reads nothing back from logs.
    messageStorage: [],
    prefetch: false,
    fileUpload: { enable: false },
    lockNetwork: true,
    defaults,
  };
  return `module.exports = ${JSON.stringify(values, null, 2)};\n`;
}

/** A Lounge with one user, started and listening; resolves with its address. */
export async function startLounge(o: LoungeOptions): Promise<Lounge> {
  const home = tempDir('thelounge');
  mkdirSync(join(home, 'users'));
  writeFileSync(join(home, 'config.js'), config(o));
  const preload = join(home, 'offline.cjs');
  writeFileSync(preload, OFFLINE_PRELOAD);
  // vitest sets NODE_ENV=test, which tells The Lounge to look for its files as in its own source tree; its log
  // lines are read here, so without colour whatever the environment asks.
  const env = { THELOUNGE_HOME: home, NODE_ENV: 'production', FORCE_COLOR: '0' };
  const run = (name: string, args: string[]) =>
    new LineProcess(name, ['--require', preload, THELOUNGE_JS, ...args], { env, program: process.execPath });
  const add = run('thelounge add', ['add', o.user, '--password', o.password]);
  await add.waitFor(`User ${o.user} created.`, 20_000);
  await add.exit();
  const proc = run('thelounge', ['start']);
  const line = await proc.waitFor(/Available at http:\/\/127\.0\.0\.1:\d+\/ in private mode/, 20_000);
  return { proc, url: /(http:\/\/\S+)/.exec(line)![1]! };
}
