#!/usr/bin/env node
// npm run wireshark:install [-- --dir DIR]: copies the LFTP and chat dissectors (wireshark/*.lua) into
// Wireshark's personal plugin folder, where Wireshark and tshark load them at start
// (Help > About Wireshark > Folders > Personal Lua Plugins): ~/.local/lib/wireshark/plugins on
// Linux and macOS, %APPDATA%\Wireshark\plugins on Windows.
import { copyFileSync, mkdirSync, readdirSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

const { values } = parseArgs({ options: { dir: { type: 'string' }, help: { type: 'boolean', short: 'h' } } });
if (values.help) {
  console.log(
    "Usage: npm run wireshark:install [-- --dir DIR]\nCopies wireshark/lftp.lua and wireshark/chat.lua into Wireshark's personal plugin folder (or DIR).",
  );
  process.exit(0);
}
const personal =
  process.platform === 'win32'
    ? join(process.env.APPDATA ?? join(homedir(), 'AppData', 'Roaming'), 'Wireshark', 'plugins')
    : join(homedir(), '.local', 'lib', 'wireshark', 'plugins');
const dir = values.dir ?? personal;
const from = new URL('../wireshark/', import.meta.url);
try {
  mkdirSync(dir, { recursive: true });
  for (const f of readdirSync(from).filter((n) => n.endsWith('.lua'))) {
    copyFileSync(new URL(f, from), join(dir, f));
    console.log(`installed ${join(dir, f)}`);
  }
} catch (err) {
  console.error(`wireshark:install: cannot install into ${dir}: ${err.code ?? err.message}`);
  process.exit(1);
}
console.log('restart Wireshark (or run tshark) to load them; the fields start with lftp. and chat.');
