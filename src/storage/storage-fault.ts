import { KafkaStorageError } from '../errors.js';

/** What each errno that means "the filesystem will not take this write" becomes. */
const FAULT_REASONS: Readonly<Record<string, KafkaStorageError['reason']>> = {
  ENOSPC: 'disk_full',
  EDQUOT: 'disk_full',
  EROFS: 'read_only',
  EIO: 'io_error',
};

const REASON_TEXT: Readonly<Record<KafkaStorageError['reason'], string>> = {
  disk_full: 'no space left on the data dir',
  read_only: 'the data dir is read-only',
  io_error: 'an I/O error on the data dir',
};

/**
 * The KafkaStorageError for `err` when it is a filesystem refusing a write (see FAULT_REASONS),
 * else undefined: every other error stays what it is (a bug is not a disk fault).
 */
export function storageFaultOf(err: unknown, what: string): KafkaStorageError | undefined {
  if (err instanceof KafkaStorageError) return err;
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code !== 'string') return undefined;
  const reason = FAULT_REASONS[code];
  if (reason === undefined) return undefined;
  return new KafkaStorageError(reason, `Cannot write ${what}: ${REASON_TEXT[reason]} (${code}).`);
}

/** Rethrows `err` as a KafkaStorageError when it is a disk fault, as it is otherwise. */
export function throwAsStorageFault(err: unknown, what: string): never {
  throw storageFaultOf(err, what) ?? err;
}
