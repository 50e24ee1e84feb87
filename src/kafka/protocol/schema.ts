/**
 * The vocabulary of Kafka's message definitions (clients/src/main/resources/common/message/*.json),
 * as TypeScript values: each API is a list of fields, each field valid in a range of versions,
 * nullable in a range, optionally a tagged field (KIP-482). Strings, bytes and arrays take their
 * compact forms in an API's flexible versions, as Kafka's generator does, unless the field opts out
 * (the request header's client id).
 */
export type Primitive =
  | 'bool'
  | 'int8'
  | 'int16'
  | 'uint16'
  | 'int32'
  | 'int64'
  | 'varint'
  | 'varlong'
  | 'uuid'
  | 'float64'
  | 'string'
  | 'bytes'
  /** A record batch (or legacy message set), kept as the raw bytes: the broker stores them as they came. */
  | 'records';

export type FieldType = Primitive | { array: Primitive | Field[] } | { struct: Field[] };

/** An inclusive version range; `max` absent means "and every later version". */
export interface VersionRange {
  min: number;
  max?: number;
}

export interface Field {
  name: string;
  type: FieldType;
  versions: VersionRange;
  nullableVersions?: VersionRange;
  /** KIP-482: the field travels in the tagged-field section under this tag, in these versions. */
  tag?: number;
  taggedVersions?: VersionRange;
  default?: unknown;
  /** false: never use the compact encoding (RequestHeader's ClientId). */
  flexible?: false;
}

export interface MessageSchema {
  name: string;
  apiKey?: number;
  validVersions: VersionRange;
  flexibleVersions?: VersionRange;
  fields: Field[];
}

/** Parse Kafka's version notation: "3+", "0-7", "5". */
export function v(spec: string): VersionRange {
  if (spec.endsWith('+')) return { min: Number(spec.slice(0, -1)) };
  const [min, max] = spec.split('-');
  return { min: Number(min), max: Number(max ?? min) };
}

export function inRange(range: VersionRange | undefined, version: number): boolean {
  return range !== undefined && version >= range.min && (range.max === undefined || version <= range.max);
}

export interface FieldOptions {
  nullable?: string;
  tag?: number;
  tagged?: string;
  default?: unknown;
  flexible?: false;
}

/** One field, written as Kafka's JSON writes it: f('Rack', 'string', '1+', { nullable: '1+' }). */
export function f(name: string, type: FieldType, versions: string, options: FieldOptions = {}): Field {
  const field: Field = { name, type, versions: v(versions) };
  if (options.nullable !== undefined) field.nullableVersions = v(options.nullable);
  if (options.tag !== undefined) {
    field.tag = options.tag;
    field.taggedVersions = v(options.tagged ?? versions);
  }
  if ('default' in options) field.default = options.default;
  if (options.flexible === false) field.flexible = false;
  return field;
}

export function message(
  name: string,
  apiKey: number | undefined,
  validVersions: string,
  flexibleVersions: string | undefined,
  fields: Field[],
): MessageSchema {
  const schema: MessageSchema = { name, validVersions: v(validVersions), fields };
  if (apiKey !== undefined) schema.apiKey = apiKey;
  if (flexibleVersions !== undefined) schema.flexibleVersions = v(flexibleVersions);
  return schema;
}

export const array = (of: Primitive | Field[]): FieldType => ({ array: of });
export const struct = (fields: Field[]): FieldType => ({ struct: fields });

/** Field names in decoded objects: Kafka's PascalCase name with a lower-case first letter. */
export function propertyName(field: Field): string {
  return field.name.charAt(0).toLowerCase() + field.name.slice(1);
}
