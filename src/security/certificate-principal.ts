/**
 * The principal a verified client certificate names, as Kafka's `DefaultKafkaPrincipalBuilder`
 * makes it for an SSL connection: `User:` + the subject's distinguished name in RFC 2253 form (most
 * specific first: `CN=alice,OU=eng,O=Example`), unless `ssl.principal.mapping.rules` (KIP-371) maps
 * it. The rules are Kafka's: a comma-separated list of `RULE:pattern/replacement/` (optionally
 * `/L` or `/U` to lower- or upper-case the result) and `DEFAULT` (the whole name); the first rule
 * whose pattern matches the whole name gives the principal, and a name no rule matches is refused.
 * Patterns are JavaScript regular expressions, which agree with Java's for the usual rules
 * (`^CN=(.*?),OU=(.*?)$`, `$1`).
 */
import { X509Certificate } from 'node:crypto';
import type { TLSSocket } from 'node:tls';
import { ANONYMOUS, type Principal, userPrincipal } from './principal.js';

interface MappingRule {
  /** null: DEFAULT, the name unchanged. */
  pattern: RegExp | null;
  replacement: string;
  caseChange: '' | 'L' | 'U';
}

/** Longest mapping-rules text accepted (a bound on what one flag may hold). */
const MAX_RULES_LENGTH = 4096;
// Kafka's SslPrincipalMapper.RULE_PARSER, with `\/` allowed inside the pattern and the replacement.
const RULE = /\s*(?:(DEFAULT)|RULE:((?:\\\/|[^/])*)\/((?:\\\/|[^/])*)\/([LU])?)\s*(?:,|$)/y;

export class PrincipalMappingRules {
  private constructor(private readonly rules: readonly MappingRule[]) {}

  static readonly DEFAULT = new PrincipalMappingRules([{ pattern: null, replacement: '', caseChange: '' }]);

  /** Parses Kafka's `ssl.principal.mapping.rules` syntax; throws a message naming what is wrong. */
  static parse(text: string): PrincipalMappingRules {
    const trimmed = text.trim();
    if (trimmed === '' || trimmed === 'DEFAULT') return PrincipalMappingRules.DEFAULT;
    if (trimmed.length > MAX_RULES_LENGTH) throw new Error(`mapping rules longer than ${MAX_RULES_LENGTH} characters`);
    const rules: MappingRule[] = [];
    RULE.lastIndex = 0;
    while (RULE.lastIndex < trimmed.length) {
      const at = RULE.lastIndex;
      const m = RULE.exec(trimmed);
      if (m === null || m[0] === '') throw new Error(`invalid mapping rule at '${trimmed.slice(at, at + 40)}'`);
      if (m[1] === 'DEFAULT') {
        rules.push({ pattern: null, replacement: '', caseChange: '' });
        continue;
      }
      let pattern: RegExp;
      try {
        pattern = new RegExp(`^(?:${(m[2] as string).replaceAll('\\/', '/')})$`);
      } catch (err) {
        throw new Error(`invalid pattern in mapping rule '${m[0].trim()}': ${(err as Error).message}`);
      }
      rules.push({
        pattern,
        replacement: (m[3] as string).replaceAll('\\/', '/'),
        caseChange: (m[4] ?? '') as '' | 'L' | 'U',
      });
    }
    return new PrincipalMappingRules(rules);
  }

  /** The principal name for `distinguishedName`, or undefined when no rule applies (Kafka refuses the connection). */
  map(distinguishedName: string): string | undefined {
    for (const rule of this.rules) {
      if (rule.pattern === null) return distinguishedName;
      if (!rule.pattern.test(distinguishedName)) continue;
      const name = distinguishedName.replace(rule.pattern, rule.replacement);
      const cased = rule.caseChange === 'L' ? name.toLowerCase() : rule.caseChange === 'U' ? name.toUpperCase() : name;
      return cased === '' ? undefined : cased;
    }
    return undefined;
  }
}

/**
 * A certificate's subject in RFC 2253 order (the last RDN of the certificate first), with RFC 2253
 * escaping, as Java's `X500Principal.getName()` writes it. Node gives the subject in certificate
 * order, one RDN a line, already escaped.
 */
export function distinguishedName(certificateDer: Buffer): string {
  const subject = new X509Certificate(certificateDer).subject;
  return subject
    .split('\n')
    .filter((rdn) => rdn !== '')
    .reverse()
    .join(',');
}

/** The principal of a verified client certificate (DER), or undefined when the mapping rules name none. */
export function certificatePrincipal(certificateDer: Buffer, rules: PrincipalMappingRules): Principal | undefined {
  const name = rules.map(distinguishedName(certificateDer));
  return name === undefined ? undefined : userPrincipal(name);
}

/**
 * Who a TLS connection is, decided once when its handshake completes: the principal of a verified
 * client certificate, ANONYMOUS when the client showed none (client auth `requested` or `none`), or
 * a refusal — a certificate the client CA does not vouch for (the handshake let it through so that
 * clients without one could come) or one no mapping rule names, as Kafka refuses both.
 */
export function tlsConnectionPrincipal(
  socket: TLSSocket,
  rules: PrincipalMappingRules,
): { principal: Principal } | { refused: string } {
  const peer = socket.getPeerCertificate();
  const presented = peer !== null && peer !== undefined && Object.keys(peer).length > 0 && peer.raw !== undefined;
  if (!presented) return { principal: ANONYMOUS };
  if (!socket.authorized) return { refused: `client certificate not trusted: ${String(socket.authorizationError)}` };
  const principal = certificatePrincipal(peer.raw, rules);
  if (principal === undefined)
    return { refused: `no principal mapping rule applies to '${distinguishedName(peer.raw)}'` };
  return { principal };
}
