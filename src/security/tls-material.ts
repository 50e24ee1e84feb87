/**
 * The node's TLS material, read from PEM files: its certificate chain and key (served by the HTTP
 * and the Kafka listener, and shown to peers as a client certificate), the CA that client
 * certificates must chain to (mutual TLS), and the CA peers' certificates must chain to
 * (node-to-node calls). Everything is checked when read — unreadable file, no certificate, a key
 * that does not match — so a bad file stops start-up with a message naming it, and a bad file at
 * reload (SIGHUP) leaves the material in use unchanged.
 */

import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import tls from 'node:tls';
import { InvalidConfigError } from '../errors.js';

/**
 * `required`: a client without a certificate the client CA signed is refused at the handshake
 * (Kafka's `ssl.client.auth=required`); `requested`: a client may come without a certificate and is
 * then anonymous, but one whose certificate does not verify is refused (a bad certificate is a
 * mistake or an attack, never a silent downgrade); `none`: no client certificate is asked for.
 */
export type ClientAuth = 'none' | 'requested' | 'required';
export const CLIENT_AUTH_MODES: readonly ClientAuth[] = ['none', 'requested', 'required'];

export interface TlsFiles {
  certFile: string;
  keyFile: string;
  /** Mutual TLS: client certificates must chain to this CA bundle. */
  clientCaFile?: string;
  clientAuth: ClientAuth;
  /** Node-to-node calls verify peers against this CA bundle; absent: the system's trust store. */
  peerCaFile?: string;
}

interface Material {
  cert: Buffer;
  key: Buffer;
  clientCa?: Buffer;
  peerCa?: Buffer;
}

/** What undici's connector needs to reach a peer over https (and show this node's certificate). */
export interface PeerTlsOptions {
  ca?: Buffer;
  cert: Buffer;
  key: Buffer;
}

export class TlsMaterial {
  private listeners: Array<(options: tls.SecureContextOptions) => void> = [];

  private constructor(
    readonly files: TlsFiles,
    private current: Material,
  ) {}

  /** Reads and checks every file; throws InvalidConfigError naming the flag and file that is wrong. */
  static load(files: TlsFiles): TlsMaterial {
    return new TlsMaterial(files, read(files));
  }

  /** Options for `tls.createServer` / `https.createServer`. */
  serverOptions(): tls.TlsOptions {
    const m = this.current;
    const asking = this.files.clientAuth !== 'none' && m.clientCa !== undefined;
    return {
      ...secureContextOptions(m, this.files),
      requestCert: asking,
      // `requested` lets a client without a certificate through; checkClientCertificate refuses a bad one.
      rejectUnauthorized: asking && this.files.clientAuth === 'required',
    };
  }

  /** What peers' https connections use now: the peer CA, and this node's certificate as a client certificate. */
  peerOptions(): PeerTlsOptions {
    const { cert, key, peerCa } = this.current;
    return { cert, key, ...(peerCa ? { ca: peerCa } : {}) };
  }

  /** Called with the new secure-context options after each successful reload. */
  onReload(listener: (options: tls.SecureContextOptions) => void): void {
    this.listeners.push(listener);
  }

  /**
   * Reads the files again. On success the servers get the new context (new connections use it;
   * open ones keep theirs) and future peer connections the new certificate; on failure it throws
   * and nothing changes.
   */
  reload(): void {
    const next = read(this.files);
    this.current = next;
    const options = secureContextOptions(next, this.files);
    for (const listener of this.listeners) listener(options);
  }

  /** The serving certificate's subject and expiry, for the log line of a (re)load. */
  describe(): { subject: string; validTo: string; fingerprint256: string } {
    const x = new X509Certificate(this.current.cert);
    return { subject: x.subject.replaceAll('\n', ', '), validTo: x.validTo, fingerprint256: x.fingerprint256 };
  }
}

function secureContextOptions(m: Material, files: TlsFiles): tls.SecureContextOptions {
  return {
    cert: m.cert,
    key: m.key,
    ...(m.clientCa && files.clientAuth !== 'none' ? { ca: m.clientCa } : {}),
  };
}

function read(files: TlsFiles): Material {
  const cert = readPem('--tls-cert', files.certFile);
  const key = readPem('--tls-key', files.keyFile);
  certificates('--tls-cert', files.certFile, cert);
  const clientCa = files.clientCaFile ? readPem('--tls-client-ca', files.clientCaFile) : undefined;
  if (clientCa && files.clientCaFile) certificates('--tls-client-ca', files.clientCaFile, clientCa);
  const peerCa = files.peerCaFile ? readPem('--tls-peer-ca', files.peerCaFile) : undefined;
  if (peerCa && files.peerCaFile) certificates('--tls-peer-ca', files.peerCaFile, peerCa);
  try {
    // Parses the key and checks that it belongs to the certificate ("key values mismatch").
    tls.createSecureContext({ cert, key, ...(clientCa ? { ca: clientCa } : {}) });
  } catch (err) {
    throw new InvalidConfigError(
      `TLS: the key in ${files.keyFile} (--tls-key) does not fit the certificate in ${files.certFile} (--tls-cert), or is not a PEM private key: ${(err as Error).message}`,
    );
  }
  return { cert, key, ...(clientCa ? { clientCa } : {}), ...(peerCa ? { peerCa } : {}) };
}

function readPem(flag: string, file: string): Buffer {
  try {
    return readFileSync(file);
  } catch (err) {
    throw new InvalidConfigError(`TLS: cannot read ${file} (${flag}): ${(err as Error).message}`);
  }
}

/** Checks that `pem` holds at least one certificate and that each parses. */
function certificates(flag: string, file: string, pem: Buffer): void {
  const blocks = pem.toString('latin1').match(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g) ?? [];
  if (blocks.length === 0) throw new InvalidConfigError(`TLS: ${file} (${flag}) holds no PEM certificate`);
  for (const block of blocks) {
    try {
      new X509Certificate(block);
    } catch (err) {
      throw new InvalidConfigError(
        `TLS: ${file} (${flag}) holds a certificate that does not parse: ${(err as Error).message}`,
      );
    }
  }
}
