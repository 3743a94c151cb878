import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { Response } from 'express';
import { html as htmlPage } from '../responses';
import { route } from '../route';

// The customer's webhook page: one static, self-contained HTML file. It holds no data; its script calls the
// customer routes with the key the customer pastes, or, as the portal, with a portal session's bearer (which it gets
// for the link it was opened with), so serving it needs no key.
const PAGE_FILE = path.join(__dirname, '..', 'page', 'webhook.html');

/** CSP hash sources for the page's inline <script> or <style> blocks: the policy allows exactly this code. */
function inlineHashes(html: string, tag: 'script' | 'style'): string {
  const blocks = [...html.matchAll(new RegExp(`<${tag}>([\\s\\S]*?)</${tag}>`, 'g'))];
  if (blocks.length === 0) return "'none'";
  return blocks.map(([, body]) => `'sha256-${createHash('sha256').update(body).digest('base64')}'`).join(' ');
}

// Read once at module load: a missing file (a build that did not copy it) fails at start, not at the first request.
const html = readFileSync(PAGE_FILE, 'utf8');
/**
 * The page's policy: only its own code, only this API. The webhook page may be framed by nothing; the portal (the same
 * page, opened by a portal link) by the platform's origins in PORTAL_FRAME_ANCESTORS, and it shows a logo the
 * platform names, from any https origin (an image runs nothing).
 */
function policy(frameAncestors: string[] | undefined): string {
  return [
    "default-src 'none'",
    `script-src ${inlineHashes(html, 'script')}`,
    `style-src ${inlineHashes(html, 'style')}`,
    "connect-src 'self'",
    frameAncestors ? "img-src 'self' data: https:" : "img-src 'self' data:",
    "base-uri 'none'",
    "form-action 'none'",
    `frame-ancestors ${frameAncestors?.length ? frameAncestors.join(' ') : "'none'"}`,
  ].join('; ');
}
const webhookPagePolicy = policy(undefined);

function serve(res: Response, frameAncestors?: string[]): void {
  res.set({
    'Content-Type': 'text/html; charset=utf-8',
    'Content-Security-Policy': frameAncestors ? policy(frameAncestors) : webhookPagePolicy,
    'X-Content-Type-Options': 'nosniff',
    'Referrer-Policy': 'no-referrer',
    'Cache-Control': 'no-cache',
  });
  // X-Frame-Options cannot name origins: where frame-ancestors allows some, it is left out (browsers that know CSP
  // follow frame-ancestors, and every current one does). A framed page cannot isolate its opener either.
  if (!frameAncestors?.length) res.set({ 'X-Frame-Options': 'DENY', 'Cross-Origin-Opener-Policy': 'same-origin' });
  res.send(html);
}

export const pageRoutes = [
  ...(['/', '/webhook'] as const).map((path) =>
    route('get', path, {
      operationId: path === '/' ? 'home' : 'webhookPage',
      tag: 'Portal',
      summary: 'The webhook page',
      access: 'public',
      responses: { 200: htmlPage('The webhook page') },
      handler: (_input, _req, res) => serve(res),
    }),
  ),
  route('get', '/portal', {
    operationId: 'portalPage',
    tag: 'Portal',
    summary: "The portal a platform embeds for its customer, opened by a portal session's link",
    description:
      'Framed by the origins in PORTAL_FRAME_ANCESTORS only. Opened by a portal link (`/portal#link=…`), it trades the ' +
      'link for the session and tells its parent page its height (`{ type: "webhook-portal:height", height }`).',
    access: 'public',
    responses: { 200: htmlPage('The portal') },
    handler: (_input, _req, res, { config }) => serve(res, config.PORTAL_FRAME_ANCESTORS),
  }),
];
