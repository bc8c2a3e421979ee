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

export function redact(text: string): string {
  let result = text.replace(URL_CREDENTIALS, '$1***@');
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

const SECRET_FIELD = /^(password|passwd|secret|token|key|apikey|api_key|authorization|x-api-key)$/i;

/** A copy of a JSON value with secret-looking fields (proxy password, webhook HMAC key...) masked. */
export function redactObject<T>(value: T): T {
  if (Array.isArray(value)) return value.map((item) => redactObject(item)) as T;
  if (!value || typeof value !== 'object') return value;
  const copy: Record<string, unknown> = {};
  for (const [field, inner] of Object.entries(value)) {
    copy[field] = SECRET_FIELD.test(field) && inner !== null && typeof inner !== 'object' ? '***' : redactObject(inner);
  }
  return copy as T;
}
