/**
 * `/`: where a newcomer lands. A small page linking what a person opens in a browser (the tail
 * page, the API reference) and what tools scrape (`/metrics`, the probes); the same links as JSON
 * for `Accept: application/json`. `/ui` and `/ui/` send the browser on to the tail page.
 */
import type { HandlerTable } from './openapi.js';

export const TAIL_PAGE_PATH = '/ui/tail.html';

// Relative links, so the page also works under a proxy's path prefix.
const HOME_PAGE_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Samsa</title>
<style>
  body { font: 15px/1.5 system-ui, sans-serif; margin: 2rem auto; max-width: 40rem; padding: 0 1rem; color: #222; }
  h1 { font-size: 1.4rem; margin-bottom: .2rem; } p { margin-top: 0; color: #555; }
  li { margin: .3rem 0; } code { font-family: ui-monospace, monospace; }
</style>
</head>
<body>
<h1>Samsa</h1>
<p>A Kafka-compatible HTTP/REST and Server-Sent-Events gateway.</p>
<ul>
  <li><a id="tail" href="ui/tail.html">Tail a topic</a> live in the browser (<code>ui/tail.html?topic=&lt;name&gt;</code>)</li>
  <li><a id="docs" href="docs">API reference</a>, and the contract itself: <a id="openapi" href="openapi.yaml">openapi.yaml</a></li>
  <li><a id="metrics" href="metrics">/metrics</a> for Prometheus</li>
  <li><a id="health" href="healthz">/healthz</a> (liveness) and <a id="readiness" href="readyz">/readyz</a> (readiness)</li>
</ul>
</body>
</html>
`;

export function homePageHandlers(): Pick<HandlerTable, 'getHome' | 'redirectToTailPage'> {
  return {
    getHome: (_input, http) => {
      if (http.responseType !== 'application/json') return HOME_PAGE_HTML;
      const base = http.baseUrl;
      return {
        name: 'samsa',
        links: {
          tail_page: `${base}${TAIL_PAGE_PATH}`,
          api_reference: `${base}/docs`,
          openapi: `${base}/openapi.yaml`,
          metrics: `${base}/metrics`,
          health: `${base}/healthz`,
          readiness: `${base}/readyz`,
        },
      };
    },
    redirectToTailPage: (_input, http) => {
      http.setHeader('Location', TAIL_PAGE_PATH);
    },
  };
}
