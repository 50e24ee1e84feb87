/**
 * The quota arithmetic on a clock the test moves: Kafka's sampled rate over `quota.window.num` ×
 * `quota.window.size.seconds`, the throttle that brings a principal back to its quota, the cap at
 * one window, and per-quota resolution of a user's values over `<default>`.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ClientQuotaManager } from '../../src/security/client-quota-manager.js';
import { ClientQuotas } from '../../src/security/client-quotas.js';
import { userPrincipal } from '../../src/security/principal.js';

const alice = userPrincipal('alice');
const bob = userPrincipal('bob');

function managerWith(users: Record<string, Record<string, number>>, samples = 11) {
  const clock = { now: 1_000_000 };
  const manager = new ClientQuotaManager(
    ClientQuotas.fromJson({ users }),
    { samples, sampleMs: 1000 },
    () => clock.now,
  );
  return { manager, clock };
}

describe('ClientQuotaManager', () => {
  test('a principal without a quota is never throttled', () => {
    const { manager } = managerWith({ alice: { producer_byte_rate: 100 } });
    assert.equal(manager.recordAndGetThrottleTimeMs(bob, 'producer_byte_rate', 1e9), 0);
    assert.equal(manager.recordAndGetThrottleTimeMs(alice, 'consumer_byte_rate', 1e9), 0);
  });

  test('a first burst is spread over all but one sample of the window, as Kafka measures it', () => {
    const { manager } = managerWith({ alice: { producer_byte_rate: 1000 } });
    // 10 s of the window at 1000 B/s: exactly at the quota.
    assert.equal(manager.recordAndGetThrottleTimeMs(alice, 'producer_byte_rate', 10_000), 0);
    // 5000 more: 15 000 over 10 s is 1500 B/s, 50 % over: half the 10 s window.
    assert.equal(manager.recordAndGetThrottleTimeMs(alice, 'producer_byte_rate', 5_000), 5_000);
  });

  test('the throttle is the time until the rate is back at the quota, and is capped at one window', () => {
    const { manager, clock } = managerWith({ alice: { producer_byte_rate: 1000 } }, 2);
    const throttle = manager.recordAndGetThrottleTimeMs(alice, 'producer_byte_rate', 1500);
    assert.equal(throttle, 500); // 1500 over the 1 s minimum: 50 % over
    clock.now += throttle;
    assert.equal(manager.throttleTimeMs(alice, 'producer_byte_rate'), 0);
    // A huge request waits one window (2 s here), not hours.
    assert.equal(manager.recordAndGetThrottleTimeMs(alice, 'producer_byte_rate', 1e9), 2000);
    clock.now += 2000;
    assert.equal(manager.throttleTimeMs(alice, 'producer_byte_rate'), 0, 'samples older than the window are gone');
  });

  test('a client that waits out every throttle moves N bytes in N / rate seconds, less at most one window', () => {
    const { manager, clock } = managerWith({ '<default>': { producer_byte_rate: 10_000 } });
    const start = clock.now;
    const total = 1_000_000;
    for (let sent = 0; sent < total; sent += 5_000) {
      const wait = manager.recordAndGetThrottleTimeMs(alice, 'producer_byte_rate', 5_000);
      clock.now += Math.max(wait, 1);
    }
    const elapsedS = (clock.now - start) / 1000;
    const idealS = total / 10_000; // 100 s
    // Never faster than the quota allows, less at most the one window that counts as already elapsed.
    assert.ok(elapsedS >= idealS - 11 && elapsedS <= idealS, `took ${elapsedS} s, ideal ${idealS} s`);
  });

  test("a user's own value wins over <default> for that quota only", () => {
    const { manager } = managerWith({
      '<default>': { producer_byte_rate: 100, request_rate: 5 },
      alice: { producer_byte_rate: 1_000_000 },
    });
    assert.equal(manager.limitOf(alice, 'producer_byte_rate'), 1_000_000);
    assert.equal(manager.limitOf(alice, 'request_rate'), 5);
    assert.equal(manager.limitOf(bob, 'producer_byte_rate'), 100);
    assert.equal(manager.limitOf(bob, 'consumer_byte_rate'), undefined);
  });

  test('quotas files that are not what they should be are refused with the reason', () => {
    const bad: [unknown, RegExp][] = [
      [[], /JSON object/],
      [{ clients: {} }, /unknown key "clients"/],
      [{ users: { alice: { producer_byte_rate: 0 } } }, /above 0/],
      [{ users: { alice: { request_percentage: 10 } } }, /unknown quota "request_percentage"/],
      [{ users: { '': {} } }, /cannot be empty/],
    ];
    for (const [json, reason] of bad) assert.throws(() => ClientQuotas.fromJson(json), reason);
  });
});
