/**
 * DescribeConfigs (api key 32), AlterConfigs (33) and IncrementalAlterConfigs (44, KIP-339) on
 * TOPIC and BROKER resources, through the same broker config code the REST v3 config routes use:
 * topic overrides over the broker-wide defaults, and this broker's run-time settings (resource
 * name = its node id) or the cluster-wide ones (empty name, Kafka's default broker entity). A
 * broker resource names this node or none: Kafka clients send each broker's configs to that broker
 * (another id is INVALID_REQUEST, as Kafka answers). AlterConfigs replaces a resource's whole set
 * of overrides (configs it does not name return to their defaults); IncrementalAlterConfigs sets,
 * deletes, appends to or subtracts from list configs, one entry at a time. Every change of one
 * resource is validated first and applied at once, or not at all.
 */
import type { ConfigChange } from '../../broker/broker.js';
import type { BrokerConfigEntry } from '../../broker/broker-config.js';
import type { ResolvedConfig } from '../../broker/topic-admin.js';
import { topicConfigDef } from '../../broker/topic-admin.js';
import { topicConfigDefOfBrokerSynonym, topicConfigSynonyms } from '../../broker/topic-config-synonyms.js';
import { InvalidConfigError } from '../../errors.js';
import { KAFKA_ERRORS } from '../../kafka-errors.js';
import { CLUSTER_RESOURCE_NAME } from '../../security/acl-binding.js';
import type { RequestContext } from '../kafka-listener.js';
import { API_KEYS } from '../protocol/apis.js';
import type { Message } from '../protocol/codec.js';
import {
  type Authorized,
  authorizedFor,
  errorCodeOf,
  errorMessageOf,
  type KafkaApi,
  type KafkaApiContext,
} from './kafka-api.js';

/** v4+ is flexible; v1 adds synonyms and config sources, v3 types and documentation. */
const DESCRIBE_VERSIONS = { min: 0, max: 4 };
/** v2+ is flexible. */
const ALTER_VERSIONS = { min: 0, max: 2 };
/** v1+ is flexible. */
const INCREMENTAL_ALTER_VERSIONS = { min: 0, max: 1 };
/** Most resources one request may name; the rest are answered INVALID_REQUEST. */
const MAX_RESOURCES_PER_REQUEST = 1000;
/** Most configs one resource of an alter request may name (Samsa knows a few dozen). */
const MAX_CONFIGS_PER_RESOURCE = 1000;

/** Kafka's ConfigResource.Type. */
const RESOURCE_TOPIC = 2;
const RESOURCE_BROKER = 4;

/** Kafka's DescribeConfigsResponse.ConfigSource codes. */
export const CONFIG_SOURCE_CODES: Readonly<Record<string, number>> = {
  DYNAMIC_TOPIC_CONFIG: 1,
  DYNAMIC_BROKER_CONFIG: 2,
  DYNAMIC_DEFAULT_BROKER_CONFIG: 3,
  STATIC_BROKER_CONFIG: 4,
  DEFAULT_CONFIG: 5,
};

/** Kafka's ConfigEntry.ConfigType codes (DescribeConfigs v3+), by the topic config's type. */
const CONFIG_TYPE_CODES: Readonly<Record<string, number>> = {
  boolean: 1,
  string: 2,
  int: 3,
  long: 5,
  double: 6,
  list: 7,
};

/** Kafka's AlterConfigOp.OpType. */
const OP_SET = 0;
const OP_DELETE = 1;
const OP_APPEND = 2;
const OP_SUBTRACT = 3;

interface ConfigResource {
  resourceType: number;
  resourceName: string;
}

/** Where a BROKER resource points: this broker's own run-time level, or the cluster-wide one. */
type BrokerScope = 'broker' | 'cluster';

/** A request Kafka refuses as a whole for this resource (InvalidRequestException, INVALID_REQUEST). */
function invalidRequest(message: string): InvalidConfigError {
  return new InvalidConfigError(message, KAFKA_ERRORS.INVALID_REQUEST);
}

function brokerScopeOf(ctx: KafkaApiContext, name: string): BrokerScope {
  if (name === '') return 'cluster';
  if (name === String(ctx.broker.nodeId)) return 'broker';
  throw invalidRequest(`Unexpected broker id, expected ${ctx.broker.nodeId} or empty string, but received ${name}`);
}

function unsupportedResource(type: number): never {
  throw invalidRequest(`Unsupported resource type ${type}: Samsa has TOPIC (2) and BROKER (4) configs.`);
}

/**
 * The authorization error of one resource, or null when allowed (src/security/access-table.ts):
 * a topic's configs need `operation` on the TOPIC, a broker's on the CLUSTER, as in Kafka.
 */
function denied(
  authorized: Authorized,
  r: ConfigResource,
  operation: 'DESCRIBE_CONFIGS' | 'ALTER_CONFIGS',
): Message | null {
  if (r.resourceType === RESOURCE_TOPIC) {
    if (authorized(operation, 'TOPIC', r.resourceName)) return null;
    return {
      errorCode: KAFKA_ERRORS.TOPIC_AUTHORIZATION_FAILED.code,
      errorMessage: `not authorized to ${operation} topic '${r.resourceName}'`,
    };
  }
  if (r.resourceType === RESOURCE_BROKER) {
    if (authorized(operation, 'CLUSTER', CLUSTER_RESOURCE_NAME)) return null;
    return {
      errorCode: KAFKA_ERRORS.CLUSTER_AUTHORIZATION_FAILED.code,
      errorMessage: `not authorized to ${operation} the cluster`,
    };
  }
  return null;
}

/** The error part of an answer for one resource. */
function resourceError(ctx: KafkaApiContext, err: unknown, during: string): Message {
  return { errorCode: errorCodeOf(err, ctx.logger, during), errorMessage: errorMessageOf(err) };
}

/**
 * Why an alter request's resource is refused as a whole (INVALID_REQUEST), or null: past the first
 * MAX_RESOURCES_PER_REQUEST, named twice in the request (Kafka's rule), or with more than
 * MAX_CONFIGS_PER_RESOURCE configs. One pass over the request, whatever its size.
 */
function refusals(resources: ReadonlyArray<ConfigResource & { configs: unknown[] }>): Array<string | null> {
  const key = (r: ConfigResource) => `${r.resourceType}:${r.resourceName}`;
  const counts = new Map<string, number>();
  for (const r of resources.slice(0, MAX_RESOURCES_PER_REQUEST)) counts.set(key(r), (counts.get(key(r)) ?? 0) + 1);
  return resources.map((r, i) => {
    if (i >= MAX_RESOURCES_PER_REQUEST) return `at most ${MAX_RESOURCES_PER_REQUEST} resources per request`;
    if ((counts.get(key(r)) ?? 0) > 1)
      return `resource ${r.resourceName} (type ${r.resourceType}) is named more than once`;
    if (r.configs.length > MAX_CONFIGS_PER_RESOURCE) return `at most ${MAX_CONFIGS_PER_RESOURCE} configs per resource`;
    return null;
  });
}

export function describeConfigsApi(ctx: KafkaApiContext): KafkaApi {
  const { broker } = ctx;

  function topicEntries(name: string, synonyms: boolean, docs: boolean): Message[] {
    const brokerConfigs = new Map(broker.brokerConfigs().map((c) => [c.name, c]));
    return broker.topicConfigs(name).map((config) => {
      const def = topicConfigDef(config.name);
      return configEntry(
        config,
        false,
        synonyms ? topicConfigSynonyms(config, brokerConfigs) : [],
        def ? (CONFIG_TYPE_CODES[def.type] ?? 0) : 0,
        docs ? (def?.doc ?? null) : null,
      );
    });
  }

  function brokerEntries(scope: BrokerScope, synonyms: boolean, docs: boolean): Message[] {
    const entries = scope === 'broker' ? broker.brokerConfigs() : broker.clusterBrokerConfigs();
    return entries.map((entry: BrokerConfigEntry) => {
      // A broker-wide topic default has its topic config's type and text; Samsa's own settings have
      // neither (Kafka's UNKNOWN type, no documentation).
      const def = topicConfigDefOfBrokerSynonym(entry.name);
      return configEntry(
        entry,
        entry.readOnly,
        synonyms ? entry.synonyms.map((s) => ({ name: entry.name, value: s.value, source: s.source })) : [],
        def ? (CONFIG_TYPE_CODES[def.type] ?? 0) : 0,
        docs ? (def?.doc ?? null) : null,
      );
    });
  }

  return {
    apiKey: API_KEYS.DescribeConfigs,
    versions: DESCRIBE_VERSIONS,
    handle: async (_header, request, context) => {
      const authorized = authorizedFor(ctx, context);
      const resources = request.resources as Array<ConfigResource & { configurationKeys: string[] | null }>;
      const synonyms = request.includeSynonyms === true;
      const docs = request.includeDocumentation === true;
      const results = resources.map((r, i): Message => {
        const answer: Message = {
          errorCode: 0,
          errorMessage: null,
          resourceType: r.resourceType,
          resourceName: r.resourceName,
          configs: [],
        };
        if (i >= MAX_RESOURCES_PER_REQUEST) {
          const errorMessage = `at most ${MAX_RESOURCES_PER_REQUEST} resources per request`;
          return { ...answer, errorCode: KAFKA_ERRORS.INVALID_REQUEST.code, errorMessage };
        }
        const refusal = denied(authorized, r, 'DESCRIBE_CONFIGS');
        if (refusal !== null) return { ...answer, ...refusal };
        try {
          let configs: Message[];
          if (r.resourceType === RESOURCE_TOPIC) configs = topicEntries(r.resourceName, synonyms, docs);
          else if (r.resourceType === RESOURCE_BROKER)
            configs = brokerEntries(brokerScopeOf(ctx, r.resourceName), synonyms, docs);
          else unsupportedResource(r.resourceType);
          const keys = r.configurationKeys === null ? null : new Set(r.configurationKeys);
          answer.configs = keys === null ? configs : configs.filter((c) => keys.has(c.name as string));
        } catch (err) {
          Object.assign(answer, resourceError(ctx, err, 'DescribeConfigs'));
        }
        return answer;
      });
      return { throttleTimeMs: 0, results };
    },
  };
}

function configEntry(
  config: Pick<ResolvedConfig, 'name' | 'value' | 'source'>,
  readOnly: boolean,
  synonyms: Array<{ name: string; value: string; source: string }>,
  configType: number,
  documentation: string | null,
): Message {
  return {
    name: config.name,
    value: config.value,
    readOnly,
    // v0's flag: Kafka's ConfigEntry.isDefault() counts only the built-in default.
    isDefault: config.source === 'DEFAULT_CONFIG',
    configSource: CONFIG_SOURCE_CODES[config.source] ?? 0,
    isSensitive: false,
    synonyms: synonyms.map((s) => ({ name: s.name, value: s.value, source: CONFIG_SOURCE_CODES[s.source] ?? 0 })),
    configType,
    documentation,
  };
}

/** The changes of one resource, applied through the broker's topic or broker config code. */
async function applyChanges(
  ctx: KafkaApiContext,
  r: ConfigResource,
  changesOf: (current: CurrentConfigs) => ConfigChange[],
  validateOnly: boolean,
): Promise<void> {
  const { broker } = ctx;
  if (r.resourceType === RESOURCE_TOPIC) {
    const overrides = broker.describeTopic(r.resourceName).configOverrides;
    const effective = new Map(broker.topicConfigs(r.resourceName).map((c) => [c.name, c.value]));
    const changes = changesOf({ overrides, effective, isList: (name) => topicConfigDef(name)?.type === 'list' });
    await broker.alterTopicConfigs(r.resourceName, changes, validateOnly);
    return;
  }
  if (r.resourceType !== RESOURCE_BROKER) unsupportedResource(r.resourceType);
  const scope = brokerScopeOf(ctx, r.resourceName);
  const level = scope === 'broker' ? 'DYNAMIC_BROKER_CONFIG' : 'DYNAMIC_DEFAULT_BROKER_CONFIG';
  const entries = broker.brokerConfigs();
  const overrides: Record<string, string> = {};
  for (const e of entries) {
    const atLevel = e.synonyms.find((s) => s.source === level);
    if (atLevel) overrides[e.name] = atLevel.value;
  }
  const effective = new Map(entries.map((e) => [e.name, e.value]));
  // The broker-wide synonyms of list-typed topic configs (log.cleanup.policy) are lists too.
  const isList = (name: string) => topicConfigDefOfBrokerSynonym(name)?.type === 'list';
  await broker.alterBrokerConfigs(scope, changesOf({ overrides, effective, isList }), validateOnly);
}

interface CurrentConfigs {
  /** The values set at the resource's own level (topic overrides, or the broker level altered). */
  overrides: Readonly<Record<string, string>>;
  /** Every config's effective value. */
  effective: ReadonlyMap<string, string>;
  isList(name: string): boolean;
}

function requireUniqueNames(names: readonly string[]): void {
  const seen = new Set<string>();
  for (const name of names) {
    // Kafka refuses a resource that names a config twice (InvalidRequestException).
    if (seen.has(name)) throw invalidRequest(`Config ${name} appears more than once in the request.`);
    seen.add(name);
  }
}

/**
 * The loop both alter APIs share: per resource, the request's limits, then its ACL
 * (ALTER_CONFIGS), then the change `alter` makes; each resource answers on its own.
 */
async function alterEach<R extends ConfigResource & { configs: Array<{ name: string }> }>(
  ctx: KafkaApiContext,
  context: RequestContext,
  resources: R[],
  during: string,
  alter: (r: R) => Promise<void>,
): Promise<Message[]> {
  const authorized = authorizedFor(ctx, context);
  const refused = refusals(resources);
  const responses: Message[] = [];
  for (const [i, r] of resources.entries()) {
    const answer: Message = {
      errorCode: 0,
      errorMessage: null,
      resourceType: r.resourceType,
      resourceName: r.resourceName,
    };
    responses.push(answer);
    if (refused[i] !== null) {
      Object.assign(answer, { errorCode: KAFKA_ERRORS.INVALID_REQUEST.code, errorMessage: refused[i] });
      continue;
    }
    const refusal = denied(authorized, r, 'ALTER_CONFIGS');
    if (refusal !== null) {
      Object.assign(answer, refusal);
      continue;
    }
    try {
      requireUniqueNames(r.configs.map((c) => c.name));
      await alter(r);
    } catch (err) {
      Object.assign(answer, resourceError(ctx, err, during));
    }
  }
  return responses;
}

export function alterConfigsApi(ctx: KafkaApiContext): KafkaApi {
  return {
    apiKey: API_KEYS.AlterConfigs,
    versions: ALTER_VERSIONS,
    handle: async (_header, request, context) => {
      const resources = request.resources as Array<
        ConfigResource & { configs: Array<{ name: string; value: string | null }> }
      >;
      const responses = await alterEach(ctx, context, resources, 'AlterConfigs', (r) =>
        // Kafka's (deprecated) AlterConfigs sets the resource's whole set: what it does not name goes.
        applyChanges(
          ctx,
          r,
          ({ overrides }) => [
            ...r.configs.map((c) => ({ name: c.name, value: c.value })),
            ...Object.keys(overrides)
              .filter((name) => !r.configs.some((c) => c.name === name))
              .map((name) => ({ name, value: null })),
          ],
          request.validateOnly === true,
        ),
      );
      return { throttleTimeMs: 0, responses };
    },
  };
}

export function incrementalAlterConfigsApi(ctx: KafkaApiContext): KafkaApi {
  return {
    apiKey: API_KEYS.IncrementalAlterConfigs,
    versions: INCREMENTAL_ALTER_VERSIONS,
    handle: async (_header, request, context) => {
      const resources = request.resources as Array<
        ConfigResource & { configs: Array<{ name: string; configOperation: number; value: string | null }> }
      >;
      const responses = await alterEach(ctx, context, resources, 'IncrementalAlterConfigs', (r) =>
        applyChanges(
          ctx,
          r,
          (current) => r.configs.map((c) => incrementalChange(current, c)),
          request.validateOnly === true,
        ),
      );
      return { throttleTimeMs: 0, responses };
    },
  };
}

/**
 * One IncrementalAlterConfigs entry as a change. APPEND and SUBTRACT work on list configs only
 * (Kafka's rule), from the config's effective value: APPEND adds the items not there yet, SUBTRACT
 * removes the given ones; a list left empty returns the config to its default.
 */
function incrementalChange(
  current: CurrentConfigs,
  c: { name: string; configOperation: number; value: string | null },
): ConfigChange {
  switch (c.configOperation) {
    case OP_SET:
      if (c.value === null) throw new InvalidConfigError(`Config ${c.name}: operation SET needs a value.`);
      return { name: c.name, value: c.value };
    case OP_DELETE:
      return { name: c.name, value: null };
    case OP_APPEND:
    case OP_SUBTRACT: {
      const op = c.configOperation === OP_APPEND ? 'APPEND' : 'SUBTRACT';
      if (!current.isList(c.name)) {
        throw new InvalidConfigError(`Config value ${op} is not allowed for config key ${c.name}: it is not a list.`);
      }
      const items = (text: string | null | undefined) =>
        (text ?? '')
          .split(',')
          .map((s) => s.trim())
          .filter((s) => s !== '');
      const now = items(current.effective.get(c.name));
      const given = items(c.value);
      const next =
        op === 'APPEND' ? [...now, ...given.filter((g) => !now.includes(g))] : now.filter((n) => !given.includes(n));
      return { name: c.name, value: next.length === 0 ? null : next.join(',') };
    }
    default:
      throw invalidRequest(`Unknown config operation ${c.configOperation} for config ${c.name}.`);
  }
}
