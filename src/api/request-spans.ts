import { context, propagation, SpanKind, SpanStatusCode, trace, type Tracer } from '@opentelemetry/api';
import type { RequestHandler } from 'express';

/**
 * A SERVER span per API request, the root of a document's trace on submit (or the child of the caller's own
 * `traceparent`): named by the route's pattern once it is known, with the method and status. Never the URL's values,
 * a header or the body. The handler runs in the span's context, so the Temporal client's start is its child.
 */
export function traceRequests(tracer: Tracer): RequestHandler {
  return (req, res, next) => {
    const parent = propagation.extract(context.active(), req.headers);
    const span = tracer.startSpan(
      `${req.method} request`,
      { kind: SpanKind.SERVER, attributes: { 'http.request.method': req.method } },
      parent,
    );
    let ended = false;
    const end = () => {
      if (ended) return;
      ended = true;
      const route = req.route ? `${req.baseUrl}${String(req.route.path)}` : 'unmatched';
      span.updateName(`${req.method} ${route}`);
      span.setAttribute('http.route', route);
      span.setAttribute('http.response.status_code', res.statusCode);
      if (res.statusCode >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
      span.end();
    };
    res.once('finish', end);
    res.once('close', end);
    const inSpan = trace.setSpan(parent, span);
    // The body arrives by the request's events, emitted from the socket's own async context: bound, the parser's
    // callback and the handler after it stay in the span.
    context.bind(inSpan, req);
    context.bind(inSpan, res);
    context.with(inSpan, next);
  };
}
