/**
 * `GET /metrics`: the Prometheus exposition of this node, in the text format (0.0.4) or, when the
 * Accept header prefers it (Prometheus 2.x asks for it first), OpenMetrics 1.0.0. The router has
 * already negotiated which of the two content types openapi.yaml declares this answer carries.
 */
import type { SamsaMetrics } from '../metrics/samsa-metrics.js';
import { essenceOf } from './media-type.js';
import type { HandlerTable } from './openapi.js';

export function metricsHandlers(metrics: SamsaMetrics): Pick<HandlerTable, 'getMetrics'> {
  return {
    getMetrics: (_input, http) =>
      metrics.render(essenceOf(http.responseType) === 'application/openmetrics-text' ? 'openmetrics' : 'prometheus'),
  };
}
