/**
 * `samsa users`: edits the users file a server authenticates against (see security/users-file.ts).
 *
 *   samsa users add <name> [--password-stdin] [--users-file F]   add or replace a user
 *   samsa users remove <name> [--users-file F]                   remove a user and their API keys
 *   samsa users add-key <name> [--users-file F]                  print a new API key for User:<name>
 *
 * The file is `--users-file`, else SAMSA_USERS_FILE. Without `--password-stdin` the password is
 * asked for on the terminal, without echo. A running server picks the change up by itself (it
 * watches the file; SIGHUP also reloads). Exit codes: 0 done, 1 failure, 2 usage.
 */
import {
  addApiKey,
  addUser,
  readUsersFileOrEmpty,
  removeUser,
  UsersFileError,
  writeUsersFile,
} from './security/users-file.js';

export const USERS_USAGE = `Usage:
  samsa users add <name> [--password-stdin] [--users-file FILE]
  samsa users remove <name> [--users-file FILE]
  samsa users add-key <name> [--users-file FILE]

Edits the users file (default: SAMSA_USERS_FILE) that \`samsa serve --users-file\` reads.
  add        add or replace a user: scrypt hash and SCRAM-SHA-256/512 credentials of the password,
             read from stdin with --password-stdin, else asked for on the terminal
  remove     remove the user and their API keys
  add-key    create an API key for User:<name> and print it (only once: the file keeps its SHA-256)
`;

/** Longest password read from stdin. */
const MAX_STDIN_BYTES = 64 * 1024;

export interface UsersIo {
  out(line: string): void;
  err(line: string): void;
  /** The password: stdin's first line, or the terminal's answer to a prompt. */
  readPassword(fromStdin: boolean): Promise<string>;
}

export async function runUsers(argv: readonly string[], env: NodeJS.ProcessEnv, io: UsersIo): Promise<number> {
  const [action, ...rest] = argv;
  if (action === '--help' || action === '-h' || action === undefined) {
    (action === undefined ? io.err : io.out)(USERS_USAGE);
    return action === undefined ? 2 : 0;
  }
  let file = env.SAMSA_USERS_FILE ?? '';
  let passwordStdin = false;
  const names: string[] = [];
  for (let i = 0; i < rest.length; i++) {
    const arg = rest[i] as string;
    if (arg === '--password-stdin') passwordStdin = true;
    else if (arg === '--users-file') file = rest[++i] ?? '';
    else if (arg.startsWith('--users-file=')) file = arg.slice('--users-file='.length);
    else if (arg.startsWith('--')) return usage(io, `unknown flag '${arg}'`);
    else names.push(arg);
  }
  if (!['add', 'remove', 'add-key'].includes(action)) return usage(io, `unknown action '${action}'`);
  if (names.length !== 1) return usage(io, 'give exactly one user name');
  if (file === '') return usage(io, 'no users file: pass --users-file or set SAMSA_USERS_FILE');
  if (passwordStdin && action !== 'add') return usage(io, '--password-stdin goes with add');
  const name = names[0] as string;
  try {
    const current = await readUsersFileOrEmpty(file);
    if (action === 'add') {
      const password = await io.readPassword(passwordStdin);
      await writeUsersFile(file, await addUser(current, name, password));
      io.out(`added user ${name} to ${file}`);
    } else if (action === 'remove') {
      const { file: next, removed } = removeUser(current, name);
      if (!removed) {
        io.err(`samsa users: no user ${name} in ${file}`);
        return 1;
      }
      await writeUsersFile(file, next);
      io.out(`removed user ${name} from ${file}`);
    } else {
      const { file: next, key } = addApiKey(current, name);
      await writeUsersFile(file, next);
      // The only time the key exists outside the client that keeps it.
      io.out(key);
    }
    return 0;
  } catch (err) {
    io.err(`samsa users: ${err instanceof UsersFileError ? err.message : (err as Error).message}`);
    return 1;
  }
}

function usage(io: UsersIo, message: string): number {
  io.err(`samsa users: ${message}\n\n${USERS_USAGE}`);
  return 2;
}

/** The password from stdin (its first line, without the newline) or an echo-less terminal prompt. */
export async function readPasswordFromProcess(fromStdin: boolean): Promise<string> {
  if (fromStdin) {
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of process.stdin) {
      size += (chunk as Buffer).length;
      if (size > MAX_STDIN_BYTES) throw new Error(`more than ${MAX_STDIN_BYTES} bytes on stdin`);
      chunks.push(chunk as Buffer);
    }
    return (Buffer.concat(chunks).toString('utf8').split(/\r?\n/)[0] ?? '').trimEnd();
  }
  if (!process.stdin.isTTY) throw new Error('stdin is not a terminal: use --password-stdin');
  const first = await prompt('Password: ');
  const again = await prompt('Again: ');
  if (first !== again) throw new Error('the passwords differ');
  return first;
}

function prompt(question: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const { stdin, stderr } = process;
    stderr.write(question);
    stdin.setRawMode(true);
    stdin.resume();
    let text = '';
    const done = (fn: () => void) => {
      stdin.setRawMode(false);
      stdin.pause();
      stdin.off('data', onData);
      stderr.write('\n');
      fn();
    };
    const onData = (chunk: Buffer) => {
      for (const ch of chunk.toString('utf8')) {
        if (ch === '\r' || ch === '\n') return done(() => resolve(text));
        if (ch === '\u0003') return done(() => reject(new Error('interrupted')));
        if (ch === '\u007f' || ch === '\b') text = text.slice(0, -1);
        else text += ch;
      }
    };
    stdin.on('data', onData);
  });
}
