import express, { Router } from 'express';
import { getAbsoluteFSPath } from 'swagger-ui-dist';
import { openApiDocument } from '../openapi';

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

export function docsRoutes(): Router {
  const router = Router();
  router.get('/openapi.json', (_req, res) => {
    res.json(openApiDocument());
  });
  router.get('/docs', (_req, res) => {
    res.set({ 'Content-Security-Policy': CSP, 'X-Content-Type-Options': 'nosniff' }).type('html').send(PAGE);
  });
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
