/** The one redaction: header values, secret-looking query parameters and URL user info in configs and text. */
import { describe, expect, it } from 'vitest';
import { redact, redactObject } from '../../src/config/redact.js';

describe('redactObject', () => {
  it('masks customHeaders values (name/value pairs and header maps), keeps the names', () => {
    const config = {
      webhooks: [{
        url: 'https://h.test/x',
        customHeaders: [{ name: 'Authorization', value: 'Bearer abc' }, { name: 'X-Anything', value: 'v1' }],
        headers: { 'X-Api-Key': 'k1' },
      }],
    };
    expect(redactObject(config).webhooks[0]).toEqual({
      url: 'https://h.test/x',
      customHeaders: [{ name: 'Authorization', value: '***' }, { name: 'X-Anything', value: '***' }],
      headers: { 'X-Api-Key': '***' },
    });
    expect(config.webhooks[0]!.customHeaders[0]!.value).toBe('Bearer abc'); // a copy, the input is untouched
  });

  it('masks secret query parameters and user info in any string, keeps the rest of the URL', () => {
    const url = 'https://u:pw@h.test/p?token=t1&key=k2&secret=s3&api_key=a4&apikey=a5&access_token=a6&password=p7&sig=s8&X-Amz-Signature=s9&session=default&authSource=admin#frag';
    expect(redactObject({ url }).url).toBe('https://***@h.test/p?token=***&key=***&secret=***&api_key=***&apikey=***&access_token=***&password=***&sig=***&X-Amz-Signature=***&session=default&authSource=admin#frag');
  });

  it('masks secret-looking fields (hmac key, proxy password, camelCase tokens)', () => {
    expect(redactObject({ hmac: { key: 'h' }, proxy: { server: 's', username: 'u', password: 'p' }, accessToken: 't', clientSecret: 'c', metadata: { team: 'ops' } }))
      .toEqual({ hmac: { key: '***' }, proxy: { server: 's', username: 'u', password: '***' }, accessToken: '***', clientSecret: '***', metadata: { team: 'ops' } });
  });
});

describe('redact (every printed line)', () => {
  it('masks query credentials in text, not ordinary parameters', () => {
    expect(redact('POST https://h.test/x?a=1&token=abc failed')).toBe('POST https://h.test/x?a=1&token=*** failed');
    expect(redact('{"url":"https://h.test/x?apikey=abc&b=2"}')).toBe('{"url":"https://h.test/x?apikey=***&b=2"}');
    expect(redact('mongodb://***@db:27017/?authSource=admin&replicaSet=rs0')).toBe('mongodb://***@db:27017/?authSource=admin&replicaSet=rs0');
  });
});
