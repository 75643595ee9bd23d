/** Processes for benchmarks: run to completion with a time limit, or start and stop servers. */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
  wallMs: number;
  /** Killed at opts.timeoutMs. */
  timedOut: boolean;
  /** Peak resident set of the process, from /usr/bin/time when used. */
  maxRssKb?: number;
  /** The process's CPU time, user + system seconds, from /usr/bin/time when used. */
  cpuSec?: number;
}

const TIME = '/usr/bin/time';

export function run(
  cmd: string,
  args: string[],
  opts: { timeoutMs?: number; cwd?: string; measureRss?: boolean; env?: NodeJS.ProcessEnv } = {},
): Promise<RunResult> {
  const useTime = opts.measureRss === true;
  const file = useTime ? TIME : cmd;
  const argv = useTime ? ['-f', '__RSS__%M __CPU__%U %S', cmd, ...args] : args;
  return new Promise((resolve) => {
    const t0 = performance.now();
    const p = spawn(file, argv, {
      cwd: opts.cwd,
      env: { ...process.env, ...opts.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    p.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      p.kill('SIGKILL');
    }, opts.timeoutMs ?? 600_000);
    p.on('close', (code) => {
      clearTimeout(timer);
      const wallMs = performance.now() - t0;
      const m = /__RSS__(\d+) __CPU__([\d.]+) ([\d.]+)/.exec(stderr);
      resolve({
        code,
        stdout,
        stderr: stderr.replace(/__RSS__\d+ __CPU__[\d.]+ [\d.]+\n?/, ''),
        wallMs,
        timedOut,
        ...(m ? { maxRssKb: Number(m[1]), cpuSec: Number(m[2]) + Number(m[3]) } : {}),
      });
    });
  });
}

export interface Daemon {
  proc: ChildProcess;
  output: () => string;
  stop(): Promise<void>;
  /** Peak RSS so far (VmHWM), in KiB. */
  peakRssKb(): number;
}

/** Characters of a daemon's output kept in memory. */
const OUTPUT_KEEP = 1 << 20;

/** Starts a long-running process; resolves once `ready` matches its output (or at once without). */
export function start(
  cmd: string,
  args: string[],
  ready?: RegExp,
  timeoutMs = 15_000,
  env: NodeJS.ProcessEnv = {},
): Promise<Daemon> {
  return new Promise((resolve, reject) => {
    const proc = spawn(cmd, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    const d: Daemon = {
      proc,
      output: () => out,
      stop: () =>
        new Promise<void>((r) => {
          if (proc.exitCode !== null || proc.signalCode !== null) return r();
          proc.once('exit', () => r());
          proc.kill('SIGTERM');
          setTimeout(() => proc.kill('SIGKILL'), 3000).unref();
        }),
      peakRssKb: () => {
        try {
          const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${proc.pid}/status`, 'utf8'));
          return m ? Number(m[1]) : NaN;
        } catch {
          return NaN;
        }
      },
    };
    const timer = setTimeout(() => reject(new Error(`${cmd} did not get ready: ${out}`)), timeoutMs);
    const onData = (b: Buffer) => {
      out += b.toString();
      // A daemon that runs through a whole suite can log hundreds of MB (ngircd logs every failed write
      // to a client the generator has closed: about 27 MB per fan-out run); only the tail is kept,
      // which is what error messages and the ready pattern need.
      if (out.length > OUTPUT_KEEP) out = out.slice(-OUTPUT_KEEP / 2);
      if (ready && ready.test(out)) {
        clearTimeout(timer);
        resolve(d);
      }
    };
    proc.stdout!.on('data', onData);
    proc.stderr!.on('data', onData);
    proc.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${cmd} exited with ${code}: ${out}`));
    });
    if (!ready) {
      clearTimeout(timer);
      setTimeout(() => resolve(d), 300);
    }
  });
}
