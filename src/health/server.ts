/**
 * `--server`: asks a running WAHA for its own `GET /health` and returns its terminus answer.
 * What the answer means when it is not a health result (422, 401, unreachable) is an error here.
 */
import { redact, redactUrl } from '../config/redact.js';
import { OperationError, UsageError } from '../errors.js';
import { isHealthResult, type HealthResult } from './result.js';

export interface ServerHealthOptions {
  url: string;
  apiKey?: string;
  timeoutMs: number;
  fetch?: typeof fetch;
}

/** `http://host:3000` or `http://host:3000/prefix` -> `.../health`; a URL ending in /health is kept. */
export function healthUrl(text: string): URL {
  let base: URL;
  try {
    base = new URL(text);
  } catch {
    throw new UsageError(`Invalid --server URL "${redact(text)}": it does not parse`, { hint: 'e.g. --server http://localhost:3000' });
  }
  if (base.protocol !== 'http:' && base.protocol !== 'https:') {
    throw new UsageError(`Invalid --server URL "${redactUrl(redact(text))}": use http:// or https://`, { hint: 'e.g. --server http://localhost:3000' });
  }
  if (/\/health\/?$/.test(base.pathname)) return base;
  const url = new URL(base);
  url.pathname = `${base.pathname.replace(/\/+$/, '')}/health`;
  url.search = '';
  url.hash = '';
  return url;
}

export async function fetchServerHealth(options: ServerHealthOptions): Promise<HealthResult> {
  const url = healthUrl(options.url);
  const shown = redactUrl(url.toString());
  const headers: Record<string, string> = { accept: 'application/json' };
  if (options.apiKey) headers['x-api-key'] = options.apiKey;
  let response: Response;
  try {
    response = await (options.fetch ?? fetch)(url, { headers, signal: AbortSignal.timeout(options.timeoutMs), redirect: 'follow' });
  } catch (error) {
    throw unreachable(shown, error, options.timeoutMs);
  }
  const text = await response.text().catch(() => '');
  const body = parseJson(text);
  if ((response.status === 200 || response.status === 503) && isHealthResult(body)) {
    return { status: body.status, info: body.info ?? {}, error: body.error ?? {}, details: body.details };
  }
  throw unexpectedAnswer(shown, response.status, text);
}

function unexpectedAnswer(shown: string, status: number, text: string): OperationError {
  if (status === 422) {
    return new OperationError(`WAHA at ${shown} answered 422: this WAHA version has health checks only in Plus`, {
      hint: 'run `waha-storage health` without --server on the host to run the same checks, or upgrade WAHA (Core has them since 2026.6)',
    });
  }
  if (status === 401 || status === 403) {
    return new OperationError(`WAHA at ${shown} answered ${status}: wrong or missing API key`, {
      hint: 'pass --api-key or set WHATSAPP_API_KEY / WAHA_API_KEY (or add health to WHATSAPP_API_KEY_EXCLUDE_PATH)',
    });
  }
  if (status === 404) {
    return new OperationError(`WAHA at ${shown} answered 404: no health endpoint there`, { hint: 'check the --server URL (the base URL of WAHA)' });
  }
  const snippet = redact(text.replace(/\s+/g, ' ').trim().slice(0, 120));
  return new OperationError(`WAHA at ${shown} answered ${status} without a health result${snippet ? `: ${snippet}` : ''}`, {
    hint: 'check the --server URL points at WAHA and not at a proxy page',
  });
}

function unreachable(shown: string, error: unknown, timeoutMs: number): OperationError {
  const name = (error as Error)?.name;
  if (name === 'TimeoutError' || name === 'AbortError') {
    return new OperationError(`WAHA at ${shown} did not answer within ${timeoutMs} ms`, { hint: 'is the server up? raise --timeout if it is slow' });
  }
  const code = (error as { cause?: { code?: string } })?.cause?.code ?? '';
  const why = code === 'ECONNREFUSED' ? 'connection refused' : code === 'ENOTFOUND' || code === 'EAI_AGAIN' ? 'host name not found' : redact(code || (error as Error)?.message || String(error));
  return new OperationError(`WAHA at ${shown} is unreachable: ${why}`, { hint: 'is the server running, and is the --server URL right?' });
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}
