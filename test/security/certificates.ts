/**
 * Certificates made at test time with Debian's openssl (never committed): a CA, a server
 * certificate it signs for 127.0.0.1 and localhost (usable as a client certificate too, as nodes
 * show theirs to their peers), client certificates, and a second, foreign CA with a client of its
 * own. Under CI the openssl binary must be there (.ci/run installs it); the test then fails, not skips.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

export interface Pki {
  dir: string;
  caCert: string;
  serverCert: string;
  serverKey: string;
  /** Issues another certificate for the server (same names), e.g. to test a reload. */
  reissueServer(name: string): { cert: string; key: string };
  /** A client certificate the CA signs, with this subject (`/O=Samsa/OU=eng/CN=alice`). */
  client(name: string, subject: string): { cert: string; key: string };
  /** A client certificate a foreign CA signs. */
  foreignClient: { cert: string; key: string };
  foreignCaCert: string;
}

export function makePki(dir: string): Pki {
  fs.mkdirSync(dir, { recursive: true });
  const sh = (script: string) =>
    execFileSync('bash', ['-euo', 'pipefail', '-c', script], { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
  const ecKey = (name: string) => `openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out ${name}.key`;
  const ca = (name: string, cn: string) =>
    `${ecKey(name)} && openssl req -x509 -new -key ${name}.key -sha256 -days 2 -subj '/O=Samsa test/CN=${cn}' -out ${name}.crt`;
  const signed = (caName: string, name: string, subject: string, ext: string) =>
    `${ecKey(name)} && openssl req -new -key ${name}.key -subj '${subject}' -out ${name}.csr && printf '%s\\n' '${ext}' > ${name}.ext && openssl x509 -req -in ${name}.csr -CA ${caName}.crt -CAkey ${caName}.key -CAcreateserial -days 2 -sha256 -extfile ${name}.ext -out ${name}.crt`;
  const serverExt = 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth,clientAuth';
  const clientExt = 'extendedKeyUsage=clientAuth';
  sh(
    [
      ca('ca', 'Samsa test CA'),
      ca('foreign-ca', 'Foreign CA'),
      signed('ca', 'server', '/O=Samsa test/CN=localhost', serverExt),
      signed('foreign-ca', 'foreign-client', '/O=Elsewhere/CN=mallory', clientExt),
    ].join(' && '),
  );
  const at = (name: string) => ({ cert: path.join(dir, `${name}.crt`), key: path.join(dir, `${name}.key`) });
  return {
    dir,
    caCert: path.join(dir, 'ca.crt'),
    serverCert: path.join(dir, 'server.crt'),
    serverKey: path.join(dir, 'server.key'),
    reissueServer(name) {
      sh(signed('ca', name, '/O=Samsa test/CN=localhost', serverExt));
      return at(name);
    },
    client(name, subject) {
      sh(signed('ca', name, subject, clientExt));
      return at(name);
    },
    foreignClient: at('foreign-client'),
    foreignCaCert: path.join(dir, 'foreign-ca.crt'),
  };
}
