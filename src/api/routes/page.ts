import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { Response } from 'express';
import { html as htmlPage } from '../responses';
import { route } from '../route';

// The customer's webhook page: one static, self-contained HTML file. It holds no data; its script calls the
// customer routes with the key the customer pastes, so serving it needs no key.
const PAGE_FILE = path.join(__dirname, '..', 'page', 'webhook.html');

/** CSP hash sources for the page's inline <script> or <style> blocks: the policy allows exactly this code. */
function inlineHashes(html: string, tag: 'script' | 'style'): string {
  const blocks = [...html.matchAll(new RegExp(`<${tag}>([\\s\\S]*?)</${tag}>`, 'g'))];
  if (blocks.length === 0) return "'none'";
  return blocks.map(([, body]) => `'sha256-${createHash('sha256').update(body).digest('base64')}'`).join(' ');
}

// Read once at module load: a missing file (a build that did not copy it) fails at start, not at the first request.
const html = readFileSync(PAGE_FILE, 'utf8');
const csp = [
  "default-src 'none'",
  `script-src ${inlineHashes(html, 'script')}`,
  `style-src ${inlineHashes(html, 'style')}`,
  "connect-src 'self'",
  "img-src 'self' data:",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

function serve(res: Response): void {
  res
    .set({
      'Content-Type': 'text/html; charset=utf-8',
      'Content-Security-Policy': csp,
      'X-Content-Type-Options': 'nosniff',
      'X-Frame-Options': 'DENY',
      'Referrer-Policy': 'no-referrer',
      'Cross-Origin-Opener-Policy': 'same-origin',
      'Cache-Control': 'no-cache',
    })
    .send(html);
}

export const pageRoutes = (['/', '/webhook'] as const).map((path) =>
  route('get', path, {
    operationId: path === '/' ? 'home' : 'webhookPage',
    tag: 'Portal',
    summary: 'The webhook page',
    access: 'public',
    responses: { 200: htmlPage('The webhook page') },
    handler: (_input, _req, res) => serve(res),
  }),
);
