/**
 * Liveness and readiness. Liveness answers as soon as the listener is up; readiness waits for the
 * broker's start-up recovery so a load balancer sends no traffic to a node still replaying logs.
 */
import type { Broker } from '../broker/broker.js';
import { ServiceUnavailableError } from '../errors.js';
import type { HandlerTable } from './openapi.js';

export function healthHandlers(broker: Broker): Pick<HandlerTable, 'getHealth' | 'getReadiness'> {
  return {
    getHealth: () => ({ status: 'ok' }),
    getReadiness: () => {
      if (!broker.ready) throw new ServiceUnavailableError('Broker is not ready; it is recovering its logs.');
      return { status: 'ready' };
    },
  };
}
