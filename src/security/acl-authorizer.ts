/**
 * Kafka's ACL authorizer (AclAuthorizer / StandardAuthorizer), its rules kept exactly:
 *
 * - `super.users` (semicolon-separated principals) may do everything.
 * - The ACLs that apply to a resource are its LITERAL ones, the LITERAL `*` ones of its type and
 *   the PREFIXED ones whose prefix starts its name. When none applies (for any principal),
 *   `allow.everyone.if.no.acl.found` decides (default false: denied).
 * - A DENY that matches the principal (or `User:*`), the host (or `*`) and the operation (or ALL)
 *   wins over every ALLOW.
 * - Otherwise an ALLOW decides, where READ, WRITE, DELETE and ALTER imply DESCRIBE, and
 *   ALTER_CONFIGS implies DESCRIBE_CONFIGS (Kafka's implied operations, KIP-11 docs).
 *
 * The ACLs live in the metadata store (a file on one node, etcd in a cluster); this class keeps
 * them in memory, indexed by resource type and name, and remembers decisions per principal,
 * host, operation and resource until the ACLs change, so a produce pays one map lookup.
 */
import type { MetadataStore, StoredAcl } from '../cluster/metadata-store.js';
import { AclLimitError, AuthorizationError, InvalidConfigError } from '../errors.js';
import {
  type AclBinding,
  type AclBindingFilter,
  type AclOperation,
  aclKey,
  filterMatches,
  type ResourceType,
  validAclBinding,
  WILDCARD_HOST,
  WILDCARD_PRINCIPAL,
  WILDCARD_RESOURCE,
} from './acl-binding.js';
import { type Principal, parsePrincipal, principalText } from './principal.js';

/** What every edge asks: may this principal, from this address, do this to this resource? */
export interface Authorizer {
  /** False when no authorizer is configured: every request is allowed and ACLs cannot be managed. */
  readonly enabled: boolean;
  authorize(
    principal: Principal,
    host: string,
    operation: AclOperation,
    resourceType: ResourceType,
    resourceName: string,
  ): boolean;
  /**
   * Whether the principal may do `operation` to some resource of the type (Kafka's
   * Authorizer.authorizeByResourceType, KIP-679): InitProducerId asks it for WRITE on any topic.
   */
  authorizeByResourceType(
    principal: Principal,
    host: string,
    operation: AclOperation,
    resourceType: ResourceType,
  ): boolean;
}

/** A broker without an authorizer (Kafka's default): everyone may do everything. */
export const ALLOW_EVERYTHING: Authorizer = Object.freeze({
  enabled: false,
  authorize: () => true,
  authorizeByResourceType: () => true,
});

/** Throws the AuthorizationError Kafka and Confluent answer when `authorizer` says no. */
export function requireAuthorized(
  authorizer: Authorizer,
  principal: Principal,
  host: string,
  operation: AclOperation,
  resourceType: ResourceType,
  resourceName: string,
): void {
  if (!authorizer.authorize(principal, host, operation, resourceType, resourceName)) {
    throw new AuthorizationError(principalText(principal), operation, resourceType, resourceName);
  }
}

export interface AclAuthorizerOptions {
  /** `super.users`: principals (`User:alice`) allowed everything. */
  superUsers: readonly string[];
  /** `allow.everyone.if.no.acl.found`. */
  allowEveryoneIfNoAclFound: boolean;
  /** Most ACLs stored; a create beyond it fails with AclLimitError. */
  maxAcls: number;
  /** Most decisions remembered; the memory is emptied when full (and on every ACL change). */
  maxCachedDecisions: number;
}

export const DEFAULT_MAX_ACLS = 100_000;
const DEFAULT_MAX_CACHED_DECISIONS = 100_000;

/** The ACLs of one resource type, indexed for a lookup by resource name. */
interface TypeIndex {
  literal: Map<string, AclBinding[]>;
  prefixed: Map<string, AclBinding[]>;
  /** Longest prefix stored, so a lookup walks no further into a long name. */
  longestPrefix: number;
}

/** Which ACL operations grant a request for an operation (ALL grants everything). */
const GRANTED_BY: Record<AclOperation, ReadonlySet<AclOperation>> = (() => {
  const ops: AclOperation[] = [
    'ALL',
    'READ',
    'WRITE',
    'CREATE',
    'DELETE',
    'ALTER',
    'DESCRIBE',
    'CLUSTER_ACTION',
    'DESCRIBE_CONFIGS',
    'ALTER_CONFIGS',
    'IDEMPOTENT_WRITE',
  ];
  const out = {} as Record<AclOperation, Set<AclOperation>>;
  for (const op of ops) out[op] = new Set<AclOperation>(['ALL', op]);
  for (const op of ['READ', 'WRITE', 'DELETE', 'ALTER'] as const) out.DESCRIBE.add(op);
  out.DESCRIBE_CONFIGS.add('ALTER_CONFIGS');
  return out;
})();

export class AclAuthorizer implements Authorizer {
  readonly enabled = true;
  private readonly superUsers: ReadonlySet<string>;
  private readonly byKey = new Map<string, AclBinding>();
  private index = new Map<ResourceType, TypeIndex>();
  private readonly decisions = new Map<string, boolean>();
  /** Bumped by every change, so a reload that started before a local change does not undo it. */
  private generation = 0;

  private constructor(
    private readonly store: MetadataStore,
    private readonly opts: AclAuthorizerOptions,
  ) {
    this.superUsers = new Set(opts.superUsers);
  }

  static async open(
    store: MetadataStore,
    opts: Partial<AclAuthorizerOptions> & Pick<AclAuthorizerOptions, 'superUsers' | 'allowEveryoneIfNoAclFound'>,
  ): Promise<AclAuthorizer> {
    const authorizer = new AclAuthorizer(store, {
      maxAcls: DEFAULT_MAX_ACLS,
      maxCachedDecisions: DEFAULT_MAX_CACHED_DECISIONS,
      ...opts,
    });
    await authorizer.reload();
    return authorizer;
  }

  /** How many ACLs are stored. */
  get size(): number {
    return this.byKey.size;
  }

  /** Re-reads every ACL from the store (cluster mode: after another node changed them). */
  async reload(): Promise<void> {
    const generation = this.generation;
    const stored = await this.store.listAcls();
    if (generation !== this.generation) return this.reload();
    this.byKey.clear();
    for (const acl of stored) {
      const binding = validAclBinding(acl);
      this.byKey.set(aclKey(binding), binding);
    }
    this.rebuild();
  }

  authorize(
    principal: Principal,
    host: string,
    operation: AclOperation,
    resourceType: ResourceType,
    resourceName: string,
  ): boolean {
    const key = `${principal.name}\u0000${host}\u0000${operation}\u0000${resourceType}\u0000${resourceName}`;
    const known = this.decisions.get(key);
    if (known !== undefined) return known;
    const allowed = this.decide(principalText(principal), host, operation, resourceType, resourceName);
    if (this.decisions.size >= this.opts.maxCachedDecisions) this.decisions.clear();
    this.decisions.set(key, allowed);
    return allowed;
  }

  private decide(
    principal: string,
    host: string,
    operation: AclOperation,
    resourceType: ResourceType,
    resourceName: string,
  ): boolean {
    if (this.superUsers.has(principal)) return true;
    const acls = this.matchingAcls(resourceType, resourceName);
    if (acls.length === 0) return this.opts.allowEveryoneIfNoAclFound;
    const applies = (acl: AclBinding) =>
      (acl.principal === principal || acl.principal === WILDCARD_PRINCIPAL) &&
      (acl.host === host || acl.host === WILDCARD_HOST);
    // DENY first: a matching DENY wins whatever ALLOWs there are. Only the operation itself or ALL
    // denies (a DENY of READ does not deny DESCRIBE), as in Kafka.
    for (const acl of acls) {
      if (acl.permission === 'DENY' && (acl.operation === operation || acl.operation === 'ALL') && applies(acl))
        return false;
    }
    const granting = GRANTED_BY[operation];
    for (const acl of acls) {
      if (acl.permission === 'ALLOW' && granting.has(acl.operation) && applies(acl)) return true;
    }
    return false;
  }

  authorizeByResourceType(
    principal: Principal,
    host: string,
    operation: AclOperation,
    resourceType: ResourceType,
  ): boolean {
    const name = principalText(principal);
    if (this.superUsers.has(name)) return true;
    const applies = (acl: AclBinding) =>
      acl.resourceType === resourceType &&
      (acl.principal === name || acl.principal === WILDCARD_PRINCIPAL) &&
      (acl.host === host || acl.host === WILDCARD_HOST) &&
      (acl.operation === operation || acl.operation === 'ALL');
    const denyLiteral = new Set<string>();
    const denyPrefixed = new Set<string>();
    const allows: AclBinding[] = [];
    for (const acl of this.byKey.values()) {
      if (!applies(acl)) continue;
      if (acl.permission === 'DENY') {
        // A DENY on every resource of the type leaves nothing to allow.
        if (acl.patternType === 'LITERAL' && acl.resourceName === WILDCARD_RESOURCE) return false;
        (acl.patternType === 'LITERAL' ? denyLiteral : denyPrefixed).add(acl.resourceName);
      } else allows.push(acl);
    }
    if (this.opts.allowEveryoneIfNoAclFound) return true;
    // An ALLOW counts unless a DENY covers all it allows: the same literal name, or a prefix of it.
    for (const allow of allows) {
      if (allow.patternType === 'LITERAL' && allow.resourceName === WILDCARD_RESOURCE) return true;
      if (allow.patternType === 'LITERAL' && denyLiteral.has(allow.resourceName)) continue;
      let dominated = false;
      for (let end = 1; end <= allow.resourceName.length && !dominated; end++) {
        dominated = denyPrefixed.has(allow.resourceName.slice(0, end));
      }
      if (!dominated) return true;
    }
    return false;
  }

  /** The ACLs that apply to one resource, any principal: its literal ones, `*`, and the prefixes of its name. */
  private matchingAcls(resourceType: ResourceType, resourceName: string): AclBinding[] {
    const index = this.index.get(resourceType);
    if (!index) return [];
    const out: AclBinding[] = [];
    const literal = index.literal.get(resourceName);
    if (literal) out.push(...literal);
    if (resourceName !== WILDCARD_RESOURCE) {
      const wildcard = index.literal.get(WILDCARD_RESOURCE);
      if (wildcard) out.push(...wildcard);
    }
    const longest = Math.min(index.longestPrefix, resourceName.length);
    for (let end = 1; end <= longest; end++) {
      const prefixed = index.prefixed.get(resourceName.slice(0, end));
      if (prefixed) out.push(...prefixed);
    }
    return out;
  }

  /** The stored ACLs a filter selects. */
  describe(filter: AclBindingFilter): AclBinding[] {
    return [...this.byKey.values()].filter((b) => filterMatches(filter, b)).sort(compareBindings);
  }

  /**
   * Stores new ACLs (each validated first; none is stored if one is invalid). ACLs stored already
   * are left as they are, as Kafka does. Beyond `maxAcls` the whole call fails.
   */
  async create(inputs: readonly StoredAcl[]): Promise<AclBinding[]> {
    const bindings = inputs.map((input) => validAclBinding(input));
    const fresh = new Map<string, AclBinding>();
    for (const b of bindings) {
      const key = aclKey(b);
      if (!this.byKey.has(key)) fresh.set(key, b);
    }
    if (this.byKey.size + fresh.size > this.opts.maxAcls) throw new AclLimitError(this.opts.maxAcls);
    if (fresh.size > 0) {
      await this.store.addAcls([...fresh.values()]);
      for (const [key, b] of fresh) this.byKey.set(key, b);
      this.rebuild();
    }
    return bindings;
  }

  /** Removes every stored ACL one of the filters selects; answers the removed ones. */
  async delete(filters: readonly AclBindingFilter[]): Promise<AclBinding[]> {
    const doomed = new Map<string, AclBinding>();
    for (const [key, b] of this.byKey) if (filters.some((f) => filterMatches(f, b))) doomed.set(key, b);
    if (doomed.size > 0) {
      await this.store.removeAcls([...doomed.values()]);
      for (const key of doomed.keys()) this.byKey.delete(key);
      this.rebuild();
    }
    return [...doomed.values()].sort(compareBindings);
  }

  /** Rebuilds the index and forgets every decision: called after each change. */
  private rebuild(): void {
    this.generation++;
    const index = new Map<ResourceType, TypeIndex>();
    for (const b of this.byKey.values()) {
      let t = index.get(b.resourceType);
      if (!t) {
        t = { literal: new Map(), prefixed: new Map(), longestPrefix: 0 };
        index.set(b.resourceType, t);
      }
      const map = b.patternType === 'LITERAL' ? t.literal : t.prefixed;
      let list = map.get(b.resourceName);
      if (!list) {
        list = [];
        map.set(b.resourceName, list);
      }
      list.push(b);
      if (b.patternType === 'PREFIXED') t.longestPrefix = Math.max(t.longestPrefix, b.resourceName.length);
    }
    this.index = index;
    this.decisions.clear();
  }
}

/** `super.users` as Kafka reads it: principals separated by semicolons, blanks ignored; each must parse. */
export function parseSuperUsers(text: string): string[] {
  const out: string[] = [];
  for (const part of text.split(';')) {
    const p = part.trim();
    if (p === '') continue;
    if (parsePrincipal(p) === undefined)
      throw new InvalidConfigError(`super.users: '${p}' is not a principal (User:<name>)`);
    out.push(p);
  }
  return out;
}

function compareBindings(a: AclBinding, b: AclBinding): number {
  const ka = aclKey(a);
  const kb = aclKey(b);
  return ka < kb ? -1 : ka > kb ? 1 : 0;
}
