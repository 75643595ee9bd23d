/**
 * A certificate authority of the tests' own, and server certificates it
 * signs (for 127.0.0.1 and localhost), written as PEM files: what `--ca`
 * and `--tls-cert` are tested with. Made with the same @peculiar/x509 the
 * server uses for --tls auto.
 */
import { webcrypto } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as x509 from '@peculiar/x509';
import { tempDir } from './processes.js';
import { privateKeyPem } from '../../server/tls/certificate.js';

const ALG = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };
const DAY = 86_400_000;

export interface TestCa {
  caFile: string;
  /** Signs a server certificate for 127.0.0.1 and localhost; its PEM files. */
  issue(): Promise<{ certFile: string; keyFile: string }>;
}

export async function testCa(name = 'test CA'): Promise<TestCa> {
  x509.cryptoProvider.set(webcrypto as never);
  const dir = tempDir('ca');
  const caKeys = await webcrypto.subtle.generateKey(ALG, true, ['sign', 'verify']);
  const ca = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: '01',
    name: `CN=${name}`,
    notBefore: new Date(Date.now() - DAY),
    notAfter: new Date(Date.now() + 30 * DAY),
    keys: caKeys,
    signingAlgorithm: ALG,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
    ],
  });
  const caFile = join(dir, 'ca.pem');
  writeFileSync(caFile, ca.toString('pem') + '\n');
  let n = 1;
  return {
    caFile,
    async issue() {
      const keys = await webcrypto.subtle.generateKey(ALG, true, ['sign', 'verify']);
      const cert = await x509.X509CertificateGenerator.create({
        serialNumber: String(++n).padStart(2, '0'),
        subject: 'CN=127.0.0.1',
        issuer: ca.subject,
        notBefore: new Date(Date.now() - DAY),
        notAfter: new Date(Date.now() + 30 * DAY),
        signingKey: caKeys.privateKey,
        publicKey: keys.publicKey,
        signingAlgorithm: ALG,
        extensions: [
          new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
          new x509.SubjectAlternativeNameExtension([
            { type: 'ip', value: '127.0.0.1' },
            { type: 'dns', value: 'localhost' },
          ]),
        ],
      });
      const certFile = join(dir, `server-${n}.pem`);
      const keyFile = join(dir, `server-${n}-key.pem`);
      writeFileSync(certFile, cert.toString('pem') + '\n');
      writeFileSync(keyFile, privateKeyPem(keys.privateKey));
      return { certFile, keyFile };
    },
  };
}
