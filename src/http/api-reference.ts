/**
 * `/openapi.yaml` (the contract, as loaded) and `/docs`, Swagger UI rendering it. Swagger UI's files
 * come from the installed `swagger-ui-dist` package and are served from here, never from a CDN, so
 * the reference works on a machine without internet access. Each file is read once, on first use.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { findSpecPath, type HandlerTable } from './openapi.js';

/** The package's files change only with an upgrade (a restart), so browsers may keep them a while. */
const ASSET_CACHE_CONTROL = 'public, max-age=3600';

// No favicon or standalone preset: the page loads these two files and /openapi.yaml, nothing else.
// validatorUrl null: Swagger UI would otherwise send the spec to validator.swagger.io for a badge.
const API_REFERENCE_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Samsa API reference</title>
<link rel="stylesheet" href="/docs/swagger-ui.css">
<style>body { margin: 0; } .topbar { display: none; }</style>
</head>
<body>
<div id="swagger-ui"></div>
<script src="/docs/swagger-ui-bundle.js"></script>
<script>
  window.ui = SwaggerUIBundle({
    url: '/openapi.yaml',
    dom_id: '#swagger-ui',
    deepLinking: true,
    validatorUrl: null,
    presets: [SwaggerUIBundle.presets.apis],
  });
</script>
</body>
</html>
`;

function once<T>(load: () => T): () => T {
  let value: T | undefined;
  return () => {
    value ??= load();
    return value;
  };
}

export function apiReferenceHandlers(): Pick<
  HandlerTable,
  'getOpenApiDocument' | 'getApiReference' | 'getApiReferenceStyles' | 'getApiReferenceScript'
> {
  const swaggerDir = once(() => dirname(createRequire(import.meta.url).resolve('swagger-ui-dist/package.json')));
  const spec = once(() => readFileSync(findSpecPath(), 'utf8'));
  const styles = once(() => readFileSync(join(swaggerDir(), 'swagger-ui.css'), 'utf8'));
  const script = once(() => readFileSync(join(swaggerDir(), 'swagger-ui-bundle.js'), 'utf8'));
  return {
    getOpenApiDocument: () => spec(),
    getApiReference: () => API_REFERENCE_HTML,
    getApiReferenceStyles: (_input, http) => {
      http.setHeader('Cache-Control', ASSET_CACHE_CONTROL);
      return styles();
    },
    getApiReferenceScript: (_input, http) => {
      http.setHeader('Cache-Control', ASSET_CACHE_CONTROL);
      return script();
    },
  };
}
