/**
 * Splits a request body of concatenated JSON objects (Confluent's streaming produce: `{...}{...}`,
 * with any whitespace between them) into one text per object, as bytes arrive. It only finds object
 * boundaries (brace depth outside strings); JSON.parse judges each object afterwards, so a malformed
 * object costs only itself. Memory is bounded by `maxObjectBytes` plus one socket chunk: an object
 * that grows past the limit is skipped to its closing brace without being kept.
 *
 * `{`, `}`, `[`, `]`, `"` and `\` are ASCII and never occur inside a multi-byte UTF-8 sequence, so
 * scanning bytes is safe for any UTF-8 input.
 */
import { BadRequestError, PayloadTooLargeError, type SamsaError } from '../errors.js';
import { BACKSLASH, CLOSE_BRACE, CLOSE_BRACKET, OPEN_BRACE, OPEN_BRACKET, QUOTE } from './json-syntax.js';

export interface JsonObjectStreamLimits {
  /** Largest object kept, in bytes of its JSON text; a larger one yields a 413 error and is skipped. */
  maxObjectBytes: number;
}

/**
 * One object's text, or the error it earns. `fatal` errors end the stream: bytes between objects
 * that are neither whitespace nor `{`, or a body that ends inside an object, leave no sound place
 * to resume from (Confluent ends the stream on a JSON syntax error too).
 */
export type JsonObjectItem =
  | { text: string; error?: undefined }
  | { text?: undefined; error: SamsaError; fatal: boolean };

function isWhitespace(byte: number): boolean {
  return byte === 0x20 || byte === 0x0a || byte === 0x0d || byte === 0x09;
}

export async function* splitJsonObjects(
  chunks: AsyncIterable<Buffer | string>,
  limits: JsonObjectStreamLimits,
): AsyncGenerator<JsonObjectItem> {
  let depth = 0;
  let inString = false;
  let escaped = false;
  /** Slices of the current object, when it is being kept. */
  let pieces: Buffer[] = [];
  let objectBytes = 0;
  let bytesBefore = 0;
  for await (const raw of chunks) {
    const chunk = typeof raw === 'string' ? Buffer.from(raw, 'utf8') : raw;
    let start = 0; // where the current object starts within this chunk
    for (let i = 0; i < chunk.length; i++) {
      const byte = chunk[i] as number;
      if (depth === 0) {
        if (isWhitespace(byte)) continue;
        if (byte !== OPEN_BRACE) {
          const shown = byte >= 0x20 && byte < 0x7f ? `'${String.fromCharCode(byte)}'` : `byte 0x${byte.toString(16)}`;
          yield {
            error: new BadRequestError(
              `Bad Request: Error processing JSON: expected '{' at byte ${bytesBefore + i}, found ${shown}; the stream ends here.`,
            ),
            fatal: true,
          };
          return;
        }
        depth = 1;
        start = i;
        pieces = [];
        objectBytes = 0;
        continue;
      }
      if (inString) {
        if (escaped) escaped = false;
        else if (byte === BACKSLASH) escaped = true;
        else if (byte === QUOTE) inString = false;
        continue;
      }
      if (byte === QUOTE) inString = true;
      else if (byte === OPEN_BRACE || byte === OPEN_BRACKET) depth++;
      else if (byte === CLOSE_BRACE || byte === CLOSE_BRACKET) {
        depth--;
        if (depth === 0) {
          const size = objectBytes + (i + 1 - start);
          if (size > limits.maxObjectBytes) yield { error: tooLarge(size, limits), fatal: false };
          else {
            pieces.push(chunk.subarray(start, i + 1));
            yield { text: (pieces.length === 1 ? (pieces[0] as Buffer) : Buffer.concat(pieces)).toString('utf8') };
          }
          pieces = [];
        }
      }
    }
    if (depth > 0) {
      const tail = chunk.length - start;
      // Keep the tail only while the object is still within the limit; past it, only count.
      if (objectBytes + tail <= limits.maxObjectBytes) pieces.push(chunk.subarray(start));
      else pieces = [];
      objectBytes += tail;
    }
    bytesBefore += chunk.length;
  }
  if (depth > 0) {
    yield {
      error: new BadRequestError('Bad Request: Error processing JSON: the body ends inside an object.'),
      fatal: true,
    };
  }
}

function tooLarge(sizeBytes: number, limits: JsonObjectStreamLimits): SamsaError {
  return new PayloadTooLargeError(
    `A streamed object of ${sizeBytes} bytes exceeds the limit of ${limits.maxObjectBytes} bytes; it was skipped.`,
  );
}
