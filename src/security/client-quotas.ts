/**
 * Client quotas as Kafka configures them (KIP-13, KIP-55): rates per user principal, with a default
 * for every user without its own (Kafka's `<default>` user entity), read from a JSON file:
 *
 * ```json
 * { "users": {
 *     "<default>": { "producer_byte_rate": 1048576, "consumer_byte_rate": 2097152, "request_rate": 200 },
 *     "alice":     { "producer_byte_rate": 10485760 } } }
 * ```
 *
 * Resolution is per quota, as Kafka's default quota callback does: a user's own value wins, else the
 * default's, else none (unlimited). `request_rate` is Samsa's word for Kafka's
 * `request_percentage` (KIP-124): requests per second, not a share of handler-thread time, because
 * one Node process has no request-handler threads to share.
 */
import fs from 'node:fs';
import type { Principal } from './principal.js';

/** The quota properties, by Kafka's names (`request_rate` stands for `request_percentage`). */
export const QUOTA_PROPERTIES = ['producer_byte_rate', 'consumer_byte_rate', 'request_rate'] as const;
export type QuotaProperty = (typeof QUOTA_PROPERTIES)[number];
export type QuotaValues = Partial<Record<QuotaProperty, number>>;

/** Kafka's name for the default user entity. */
export const DEFAULT_USER_ENTITY = '<default>';
/** Most user entities one file may name: a bound on the table kept in memory. */
export const MAX_QUOTA_ENTITIES = 100_000;

export class ClientQuotas {
  private constructor(
    private readonly users: ReadonlyMap<string, QuotaValues>,
    private readonly defaults: QuotaValues,
  ) {}

  static readonly NONE = new ClientQuotas(new Map(), {});

  /** From the parsed JSON of a quotas file; throws a RangeError naming what is wrong. */
  static fromJson(json: unknown): ClientQuotas {
    if (typeof json !== 'object' || json === null || Array.isArray(json))
      throw new RangeError('a quotas file is a JSON object with a "users" object');
    const { users, ...rest } = json as Record<string, unknown>;
    const unknownKeys = Object.keys(rest);
    if (unknownKeys.length > 0) throw new RangeError(`unknown key "${unknownKeys[0]}" (only "users")`);
    if (users === undefined) return ClientQuotas.NONE;
    if (typeof users !== 'object' || users === null || Array.isArray(users))
      throw new RangeError('"users" must be an object of user name → quotas');
    const entries = Object.entries(users as Record<string, unknown>);
    if (entries.length > MAX_QUOTA_ENTITIES)
      throw new RangeError(`at most ${MAX_QUOTA_ENTITIES} users, got ${entries.length}`);
    const table = new Map<string, QuotaValues>();
    for (const [user, values] of entries) {
      if (user === '') throw new RangeError('a user name cannot be empty');
      table.set(user, parseValues(user, values));
    }
    const defaults = table.get(DEFAULT_USER_ENTITY) ?? {};
    table.delete(DEFAULT_USER_ENTITY);
    return new ClientQuotas(table, defaults);
  }

  static readFile(file: string): ClientQuotas {
    let text: string;
    try {
      text = fs.readFileSync(file, 'utf8');
    } catch (err) {
      throw new RangeError(`cannot read ${file}: ${(err as Error).message}`);
    }
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (err) {
      throw new RangeError(`${file} is not JSON: ${(err as Error).message}`);
    }
    try {
      return ClientQuotas.fromJson(json);
    } catch (err) {
      throw new RangeError(`${file}: ${(err as Error).message}`);
    }
  }

  /** The limit of `property` for `principal` (per second), or undefined when it has none. */
  limitOf(principal: Principal, property: QuotaProperty): number | undefined {
    return this.users.get(principal.name)?.[property] ?? this.defaults[property];
  }

  /** Whether any quota is configured at all (none: the edges skip every measurement). */
  get isEmpty(): boolean {
    return this.users.size === 0 && Object.keys(this.defaults).length === 0;
  }
}

function parseValues(user: string, values: unknown): QuotaValues {
  if (typeof values !== 'object' || values === null || Array.isArray(values))
    throw new RangeError(`the quotas of "${user}" must be an object`);
  const out: QuotaValues = {};
  for (const [key, value] of Object.entries(values as Record<string, unknown>)) {
    if (!(QUOTA_PROPERTIES as readonly string[]).includes(key))
      throw new RangeError(`unknown quota "${key}" for "${user}" (known: ${QUOTA_PROPERTIES.join(', ')})`);
    if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0)
      throw new RangeError(`quota ${key} of "${user}" must be a number above 0, got ${JSON.stringify(value)}`);
    out[key as QuotaProperty] = value;
  }
  return out;
}
