/**
 * `npm run bench -- authentication` (also the end of `npm run bench -- produce`): what
 * authentication and ACLs cost on the produce path. The same v2 produce load (binary, 1 and 100
 * records per request, acks=1, 8 keep-alive connections) against a node with both off and one with
 * a users file, a JWT secret and the ACL authorizer (`--authorizer acl`, ACLs: alice may WRITE the
 * topic, plus 1,000 ACLs for other principals and topics, LITERAL and PREFIXED, so every decision
 * searches a realistic set; decisions are cached per principal and resource), sending HTTP Basic
 * (checked by scrypt once, then from the verified-password cache), an API key (a SHA-256 per
 * request) or an HS256 JWT (verified per request). Both servers run in child processes, loaded in
 * alternating runs, each figure the median of BENCH_AUTH_ROUNDS (default 3); the ratio is
 * authentication on over off, for the rate and for each server's own CPU time per request (the
 * steadier figure on a shared machine). Environment: BENCH_SECONDS (per run, default 2).
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { SignJWT } from 'jose';
import { addApiKey, addUser, emptyUsersFile, writeUsersFile } from '../src/security/users-file.js';
import { announce, type ChildServer, cpuMicros, startChild, stopChild } from './child-server.js';
import { printTable } from './markdown-table.js';

const CONNECTIONS = 8;
const VALUE_BYTES = 100;
const SECONDS = Number(process.env.BENCH_SECONDS ?? 2);
const WARM_UP_MS = 1000;
const ROUNDS = Math.max(1, Number(process.env.BENCH_AUTH_ROUNDS ?? 3));
const TOPIC = 'bench';
const PASSWORD = 'bench-password-1';
const JWT_SECRET = 'bench-jwt-secret-0123456789abcdef0123';
const BINARY_V2 = 'application/vnd.kafka.binary.v2+json';

async function serve(kind: string, usersFile: string): Promise<void> {
  const { SamsaNode } = await import('../src/samsa-node.js');
  const { createApp } = await import('../src/http/app.js');
  const { Authenticator } = await import('../src/security/authenticator.js');
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'samsa-bench-auth-'));
  const node = await SamsaNode.open({
    dataDir,
    nodeId: 0,
    brokerConfigs: {},
    ...(kind === 'on' ? { authorizer: 'acl' as const } : {}),
  });
  await node.start();
  await node.broker.createTopic(TOPIC, { partitions: 1 });
  if (kind === 'on') {
    const { AclAuthorizer } = await import('../src/security/acl-authorizer.js');
    if (!(node.authorizer instanceof AclAuthorizer)) throw new Error('the ACL authorizer is not running');
    await node.authorizer.create(benchAcls());
  }
  const authenticator =
    kind === 'on'
      ? await Authenticator.create({
          usersFile,
          jwt: {
            secret: JWT_SECRET,
            jwksFile: '',
            issuer: '',
            audience: '',
            clockSkewMs: 30_000,
            principalClaim: 'sub',
          },
        })
      : undefined;
  const server = http.createServer(createApp({ node, ...(authenticator ? { authenticator } : {}) }));
  process.on('SIGTERM', () => {
    server.close();
    void node.shutdown().then(() => {
      fs.rmSync(dataDir, { recursive: true, force: true });
      process.exit(0);
    });
  });
  announce(server);
}

/** alice may write the bench topic; 1,000 other ACLs (other principals, topics and prefixes) sit beside it. */
function benchAcls() {
  const acl = (resourceName: string, patternType: string, principal: string, operation: string) => ({
    resourceType: 'TOPIC',
    resourceName,
    patternType,
    principal,
    host: '*',
    operation,
    permission: 'ALLOW',
  });
  const others = Array.from({ length: 1000 }, (_, i) =>
    i % 2 === 0
      ? acl(`topic-${i}`, 'LITERAL', `User:app-${i}`, 'WRITE')
      : acl(`team-${i}.`, 'PREFIXED', `User:app-${i}`, 'READ'),
  );
  return [acl(TOPIC, 'LITERAL', 'User:alice', 'WRITE'), ...others];
}

function post(agent: http.Agent, port: number, body: Buffer, authorization: string | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: '127.0.0.1',
        port,
        path: `/topics/${TOPIC}?acks=1`,
        method: 'POST',
        agent,
        headers: {
          'content-type': BINARY_V2,
          'content-length': body.length,
          ...(authorization ? { authorization } : {}),
        },
      },
      (res) => {
        if (res.statusCode !== 200) reject(new Error(`HTTP ${res.statusCode}`));
        res.resume();
        res.on('end', resolve);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

interface Run {
  recordsPerSecond: number;
  /** The server's own CPU time per request over the measured window: steadier than the rate on a shared machine. */
  cpuMicrosPerRequest: number;
}

async function measure(server: ChildServer, count: number, authorization: string | undefined): Promise<Run> {
  const { port } = server;
  const agent = new http.Agent({ keepAlive: true, maxSockets: CONNECTIONS });
  const records = Array.from({ length: count }, () => ({ value: randomBytes(VALUE_BYTES).toString('base64') }));
  const body = Buffer.from(JSON.stringify({ records }));
  const run = async (until: number) => {
    let requests = 0;
    await Promise.all(
      Array.from({ length: CONNECTIONS }, async () => {
        while (Date.now() < until) {
          await post(agent, port, body, authorization);
          requests++;
        }
      }),
    );
    return requests;
  };
  await run(Date.now() + WARM_UP_MS);
  const cpuBefore = await cpuMicros(server);
  const started = process.hrtime.bigint();
  const requests = await run(Date.now() + SECONDS * 1000);
  const cpuUsed = (await cpuMicros(server)) - cpuBefore;
  agent.destroy();
  return {
    recordsPerSecond: (requests * count) / (Number(process.hrtime.bigint() - started) / 1e9),
    cpuMicrosPerRequest: cpuUsed / requests,
  };
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] as number;
const fmt = (n: number) => n.toLocaleString('en-US', { maximumFractionDigits: 0 });

export async function runAuthenticationBench(): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'samsa-bench-users-'));
  const usersFile = path.join(dir, 'users.json');
  const { file, key } = addApiKey(await addUser(emptyUsersFile(), 'alice', PASSWORD), 'alice');
  await writeUsersFile(usersFile, file);
  const jwt = await new SignJWT({ sub: 'alice' })
    .setProtectedHeader({ alg: 'HS256' })
    .setExpirationTime('1h')
    .sign(new TextEncoder().encode(JWT_SECRET));
  const credentials: Array<[string, string]> = [
    ['Basic', `Basic ${Buffer.from(`alice:${PASSWORD}`).toString('base64')}`],
    ['API key', `Bearer ${key}`],
    ['JWT HS256', `Bearer ${jwt}`],
  ];
  await printCheckCosts(usersFile, credentials);
  console.log(
    `authentication and ACLs bench: v2 produce, binary, acks=1, ${CONNECTIONS} connections, ${SECONDS} s per run, median of ${ROUNDS} alternating runs`,
  );
  const me = fileURLToPath(import.meta.url);
  const off: ChildServer = await startChild(me, ['off', usersFile]);
  const on: ChildServer = await startChild(me, ['on', usersFile]);
  const rows: string[][] = [];
  try {
    for (const count of [1, 100]) {
      for (const [name, authorization] of credentials) {
        const offRuns: Run[] = [];
        const onRuns: Run[] = [];
        for (let round = 0; round < ROUNDS; round++) {
          offRuns.push(await measure(off, count, undefined));
          onRuns.push(await measure(on, count, authorization));
        }
        const [a, b] = [median(offRuns.map((r) => r.recordsPerSecond)), median(onRuns.map((r) => r.recordsPerSecond))];
        const [ca, cb] = [
          median(offRuns.map((r) => r.cpuMicrosPerRequest)),
          median(onRuns.map((r) => r.cpuMicrosPerRequest)),
        ];
        rows.push([
          `${count}/req ${name}`,
          fmt(a),
          fmt(b),
          `${fmt((100 * b) / a)}%`,
          ca.toFixed(1),
          cb.toFixed(1),
          `${fmt((100 * ca) / cb)}%`,
        ]);
        console.log(rows.at(-1)?.join('  |  '));
      }
    }
  } finally {
    await stopChild(off);
    await stopChild(on);
    fs.rmSync(dir, { recursive: true, force: true });
  }
  console.log();
  printTable(['case', 'off rec/s', 'on rec/s', 'on / off', 'off CPU µs/req', 'on CPU µs/req', 'CPU off / on'], rows);
}

/**
 * What one check costs in this process, without HTTP around it: the per-request price of each
 * credential once its first check (scrypt, a signature) is cached.
 */
async function printCheckCosts(usersFile: string, credentials: Array<[string, string]>): Promise<void> {
  const { Authenticator } = await import('../src/security/authenticator.js');
  const authenticator = await Authenticator.create({
    usersFile,
    jwt: { secret: JWT_SECRET, jwksFile: '', issuer: '', audience: '', clockSkewMs: 30_000, principalClaim: 'sub' },
  });
  const rows: string[][] = [];
  for (const [name, header] of credentials) {
    const value = header.slice(header.indexOf(' ') + 1);
    const check =
      name === 'Basic'
        ? () => authenticator.password('alice', Buffer.from(value, 'base64').toString('utf8').split(':')[1] as string)
        : () => authenticator.bearer(value);
    const t0 = process.hrtime.bigint();
    await check();
    const firstUs = Number(process.hrtime.bigint() - t0) / 1e3;
    const n = 20_000;
    const t1 = process.hrtime.bigint();
    for (let i = 0; i < n; i++) await check();
    rows.push([name, firstUs.toFixed(0), (Number(process.hrtime.bigint() - t1) / 1e3 / n).toFixed(2)]);
  }
  printTable(['credential', 'first check µs', 'later checks µs'], rows);
  console.log();
}

const serveAt = process.argv.indexOf('--serve');
if (serveAt >= 0) await serve(process.argv[serveAt + 1] ?? 'off', process.argv[serveAt + 2] ?? '');
else if (process.argv[1] === fileURLToPath(import.meta.url)) await runAuthenticationBench();
