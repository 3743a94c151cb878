import express, { Router } from 'express';
import { getAbsoluteFSPath } from 'swagger-ui-dist';
import { html } from '../responses';
import { route } from '../route';

// GET /openapi.json and GET /docs: the document and Swagger UI, served from the npm package (no CDN: works offline).
// The page's own script is a file too, so the policy allows scripts from this origin only.
const SWAGGER_UI = getAbsoluteFSPath();

const PAGE = `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <title>Webhook delivery API</title>
    <link rel="stylesheet" href="/docs/assets/swagger-ui.css" />
    <link rel="icon" href="/docs/assets/favicon-32x32.png" />
  </head>
  <body>
    <div id="swagger-ui"></div>
    <script src="/docs/assets/swagger-ui-bundle.js"></script>
    <script src="/docs/assets/init.js"></script>
  </body>
</html>
`;

const INIT = `window.ui = SwaggerUIBundle({ url: '/openapi.json', dom_id: '#swagger-ui', deepLinking: true });\n`;

// Swagger UI sets style attributes and loads its images as data: URIs; nothing else leaves this origin.
const CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

export const docsRoutes = [
  route('get', '/openapi.json', {
    operationId: 'openApiDocument',
    summary: 'This document',
    access: 'public',
    responses: { 200: { description: 'OpenAPI 3.1', content: { 'application/json': { schema: { type: 'object' } } } } },
    handler: (_input, _req, res, { openApi }) => {
      res.json(openApi());
    },
  }),

  route('get', '/docs', {
    operationId: 'docs',
    summary: 'This document, rendered',
    access: 'public',
    responses: { 200: html('Swagger UI') },
    handler: (_input, _req, res) => {
      res.set({ 'Content-Security-Policy': CSP, 'X-Content-Type-Options': 'nosniff' }).type('html').send(PAGE);
    },
  }),
];

/** Swagger UI's files and the page's script: files, not operations, so the document leaves them out. */
export function docsAssets(): Router {
  const router = Router();
  router.get('/docs/assets/init.js', (_req, res) => {
    res.set({ 'X-Content-Type-Options': 'nosniff' }).type('application/javascript').send(INIT);
  });
  router.use(
    '/docs/assets',
    express.static(SWAGGER_UI, {
      index: false,
      fallthrough: true,
      setHeaders: (res) => res.set('X-Content-Type-Options', 'nosniff'),
    }),
  );
  return router;
}
