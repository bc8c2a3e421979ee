/**
 * The one place secrets are hidden. Every output and error path goes through `redact`.
 * Known secret values are registered when the configuration is loaded; credentials embedded in
 * any connection string are masked by pattern as well, so an unregistered URL is safe too.
 */
const secrets = new Set<string>();

export function registerSecret(value: string | undefined): void {
  if (value && value.length >= 3) secrets.add(value);
}

/** `mongodb://user:pass@host:port/db?x` -> `mongodb://***@host:port/db?x`. */
export function redactUrl(url: string): string {
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^@/?#\s]*@/i, '$1***@');
}

const URL_CREDENTIALS = /\b([a-z][a-z0-9+.-]*:\/\/)[^@/?#\s'"]*@/gi;

/**
 * A query parameter whose name ends like a credential (`token`, `access_token`, `api_key`, `apikey`,
 * `secret`, `password`, `sig`, `X-Amz-Signature`...). `authSource` and `session` stay readable.
 */
const SECRET_PARAM_NAME = String.raw`[^=&#?\s'"<>\\]*?(?:token|key|secret|passw(?:or)?d|pwd|pass|sig|signature|auth|authorization|credentials?|jwt|hmac|bearer)`;
const SECRET_QUERY_PARAM = new RegExp(String.raw`([?&;]${SECRET_PARAM_NAME}=)[^&#\s'"<>\\]+`, 'gi');

export function redact(text: string): string {
  let result = text.replace(URL_CREDENTIALS, '$1***@').replace(SECRET_QUERY_PARAM, '$1***');
  // Longest first, so a secret that contains another is hidden whole.
  for (const secret of [...secrets].sort((a, b) => b.length - a.length)) {
    result = result.split(secret).join('***');
    const encoded = encodeURIComponent(secret);
    if (encoded !== secret) result = result.split(encoded).join('***');
  }
  return result;
}

/** Registers the password inside a connection string (the user name is masked by pattern only). */
export function registerUrlSecrets(url: string | undefined): void {
  if (!url) return;
  const match = /^[a-z][a-z0-9+.-]*:\/\/[^:@/?#\s]*:([^@/?#\s]*)@/i.exec(url);
  const password = match?.[1];
  if (!password) return;
  registerSecret(password);
  try {
    registerSecret(decodeURIComponent(password));
  } catch {
    // not percent-encoded; the raw form is registered already
  }
}

const SECRET_FIELD = /^(key|hmac|.*(password|passwd|secret|token|api[-_]?key|authorization|private[-_]?key))$/i;
/** Fields whose every value is a header value: WAHA's `customHeaders: [{name, value}]`, or a plain header map. */
const HEADERS_FIELD = /^(customHeaders|headers)$/i;

/**
 * A copy of a JSON value with secrets masked: secret-looking fields (proxy password, webhook HMAC
 * key...), every header value (`customHeaders`), and credentials inside URLs (user info and
 * secret-looking query parameters) in any string.
 */
export function redactObject<T>(value: T): T {
  if (typeof value === 'string') return redactUrlText(value) as T;
  if (Array.isArray(value)) return value.map((item) => redactObject(item)) as T;
  if (!value || typeof value !== 'object') return value;
  const copy: Record<string, unknown> = {};
  for (const [field, inner] of Object.entries(value)) {
    if (HEADERS_FIELD.test(field)) copy[field] = redactHeaders(inner);
    else copy[field] = SECRET_FIELD.test(field) && inner !== null && typeof inner !== 'object' ? '***' : redactObject(inner);
  }
  return copy as T;
}

function redactUrlText(text: string): string {
  return text.replace(URL_CREDENTIALS, '$1***@').replace(SECRET_QUERY_PARAM, '$1***');
}

/** `[{name, value}]` keeps the names and masks the values; `{Name: value}` keeps the keys. */
function redactHeaders(headers: unknown): unknown {
  if (Array.isArray(headers)) {
    return headers.map((header) => {
      if (!header || typeof header !== 'object' || Array.isArray(header)) return header === null ? null : '***';
      const copy: Record<string, unknown> = {};
      for (const [field, inner] of Object.entries(header)) copy[field] = field === 'name' && typeof inner === 'string' ? inner : mask(inner);
      return copy;
    });
  }
  if (headers && typeof headers === 'object') {
    return Object.fromEntries(Object.entries(headers).map(([name, inner]) => [name, mask(inner)]));
  }
  return mask(headers);
}

function mask(value: unknown): unknown {
  return value === null || value === undefined ? value : '***';
}
