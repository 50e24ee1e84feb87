/**
 * Content-type handling for Confluent's embedded formats. The accepted types of each operation
 * come from openapi.yaml; this module only knows how to compare them and how to explain a refusal.
 */
import { UnsupportedMediaTypeError } from '../errors.js';

/** `Application/JSON; charset=utf-8` → `application/json`; undefined when the header is absent or empty. */
export function essenceOf(contentType: string | undefined): string | undefined {
  const essence = contentType?.split(';', 1)[0]?.trim().toLowerCase();
  return essence ? essence : undefined;
}

// Confluent's schema-registry formats. Recognised so the 415 says what is missing instead of
// Jersey's bare "HTTP 415 Unsupported Media Type".
const SCHEMA_FORMAT = /^application\/vnd\.kafka\.(avro|jsonschema|protobuf)\.v[23]\+json$/;

export function unsupportedMediaType(
  essence: string | undefined,
  accepted: Iterable<string>,
): UnsupportedMediaTypeError {
  const schemaFormat = essence ? SCHEMA_FORMAT.exec(essence)?.[1] : undefined;
  if (schemaFormat) {
    const embedded = [...accepted].filter((type) => type.startsWith('application/vnd.kafka.'));
    return new UnsupportedMediaTypeError(
      `Schema formats (${schemaFormat}) are not supported yet; use ${embedded.join(', ')}.`,
    );
  }
  // Jersey's wording first (clients match on it), then what would have been accepted.
  const sent = essence === undefined ? 'A request without Content-Type' : `Content-Type ${essence}`;
  return new UnsupportedMediaTypeError(
    `HTTP 415 Unsupported Media Type: ${sent} is not accepted here; send one of ${[...accepted].join(', ')}.`,
  );
}
