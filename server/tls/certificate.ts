/**
 * The server's TLS certificate: the operator's (--tls-cert, --tls-key), or
 * with --tls auto one made on first start and kept in the data folder
 * (tls/cert.pem, tls/key.pem), so that clients that trusted it on first use
 * keep trusting it. Made with @peculiar/x509 over node's own WebCrypto: an
 * ECDSA P-256 key (generated in milliseconds, where RSA takes seconds in
 * pure JavaScript) and a certificate for this host's names and addresses,
 * valid ten years, which is what a LAN server without a CA needs.
 */
import { KeyObject, X509Certificate as NodeX509, webcrypto } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { hostname, networkInterfaces } from 'node:os';
import { join } from 'node:path';
import * as x509 from '@peculiar/x509';
import { StartupError } from '../startup-error.js';
import type { ListenerTls } from './listeners.js';

export interface ServerCertificate {
  cert: string;
  key: string;
  /** SHA-256 of the certificate (DER), as AA:BB:…: what clients trust on first use. */
  fingerprint: string;
  /** Where it came from, for the start-up line. */
  source: string;
}

export type TlsChoice = { mode: 'off' } | { mode: 'auto' } | { mode: 'files'; cert: string; key: string };

const TEN_YEARS_MS = 10 * 365 * 86_400_000;

/** The names a LAN client may use for this machine: its host name, localhost, and every address it has. */
function subjectNames(): x509.JsonGeneralName[] {
  const names: x509.JsonGeneralName[] = [{ type: 'dns', value: 'localhost' }];
  const host = hostname();
  if (host && host !== 'localhost') names.push({ type: 'dns', value: host });
  for (const list of Object.values(networkInterfaces()))
    for (const i of list ?? []) names.push({ type: 'ip', value: i.address.split('%')[0]! });
  if (!names.some((n) => n.value === '127.0.0.1')) names.push({ type: 'ip', value: '127.0.0.1' });
  return names;
}

export async function makeSelfSigned(commonName: string, now = Date.now()): Promise<{ cert: string; key: string }> {
  x509.cryptoProvider.set(webcrypto as never);
  const alg = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };
  const keys = await webcrypto.subtle.generateKey(alg, true, ['sign', 'verify']);
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: Buffer.from(webcrypto.getRandomValues(new Uint8Array(16)))
      .toString('hex')
      .replace(/^[89a-f]/, '1'),
    name: `CN=${commonName}`,
    notBefore: new Date(now - 86_400_000),
    notAfter: new Date(now + TEN_YEARS_MS),
    keys,
    signingAlgorithm: alg,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth], false),
      new x509.SubjectAlternativeNameExtension(subjectNames(), false),
    ],
  });
  return { cert: cert.toString('pem') + '\n', key: privateKeyPem(keys.privateKey) };
}

/** A WebCrypto private key as PKCS#8 PEM, written by node's own encoder. */
export function privateKeyPem(key: webcrypto.CryptoKey): string {
  return KeyObject.from(key).export({ type: 'pkcs8', format: 'pem' }) as string;
}

export function fingerprintOf(certPem: string): string {
  return new NodeX509(certPem).fingerprint256;
}

function readPem(path: string, what: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    throw new StartupError(
      'TLS_FILE',
      `cannot read the TLS ${what} ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
    );
  }
}

/** What the workers serve with, and the operator's line about it (null, null: --no-tls). */
export async function startTls(o: {
  choice: TlsChoice;
  dir: string;
  keylog: string | null;
  handshakeTimeoutMs: number;
}): Promise<{ tls: ListenerTls | null; line: string | null }> {
  const c = await serverCertificate(o.choice, o.dir);
  if (!c) return { tls: null, line: null };
  return {
    tls: { cert: c.cert, key: c.key, keylog: o.keylog, handshakeTimeoutMs: o.handshakeTimeoutMs },
    line: `tls: certificate ${c.source}, SHA-256 ${c.fingerprint}${o.keylog ? `; TLS secrets written to ${o.keylog}` : ''}`,
  };
}

/** The certificate to serve, or null with TLS off. */
export async function serverCertificate(choice: TlsChoice, dataDir: string): Promise<ServerCertificate | null> {
  if (choice.mode === 'off') return null;
  if (choice.mode === 'files') {
    const cert = readPem(choice.cert, 'certificate');
    const key = readPem(choice.key, 'key');
    try {
      return { cert, key, fingerprint: fingerprintOf(cert), source: choice.cert };
    } catch (err) {
      throw new StartupError('TLS_FILE', `${choice.cert} is not a PEM certificate: ${(err as Error).message}`);
    }
  }
  const dir = join(dataDir, 'tls');
  const certFile = join(dir, 'cert.pem');
  const keyFile = join(dir, 'key.pem');
  if (existsSync(certFile) && existsSync(keyFile)) {
    const cert = readPem(certFile, 'certificate');
    return { cert, key: readPem(keyFile, 'key'), fingerprint: fingerprintOf(cert), source: certFile };
  }
  const made = await makeSelfSigned(hostname() || 'heartbeat-chat');
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    writeFileSync(keyFile, made.key, { mode: 0o600 });
    chmodSync(keyFile, 0o600);
    writeFileSync(certFile, made.cert);
  } catch (err) {
    throw new StartupError('TLS_FILE', `cannot keep the new certificate in ${dir}: ${(err as Error).message}`);
  }
  return { ...made, fingerprint: fingerprintOf(made.cert), source: `${certFile} (made now)` };
}
