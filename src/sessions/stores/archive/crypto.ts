/**
 * age encryption of the archive stream (passphrase / scrypt recipient), so `age -d` decrypts it.
 * Node streams on our side, web streams inside age-encryption.
 */
import { Readable } from 'node:stream';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { UsageError } from '../../../errors.js';

/** Every age file starts with this line. */
export const AGE_MAGIC = Buffer.from('age-encryption.org/v1\n');
export const GZIP_MAGIC = Buffer.from([0x1f, 0x8b]);

export async function encryptStream(input: Readable, passphrase: string, workFactor?: number): Promise<Readable> {
  const { Encrypter } = await import('age-encryption');
  const encrypter = new Encrypter();
  encrypter.setPassphrase(passphrase);
  if (workFactor) encrypter.setScryptWorkFactor(workFactor);
  const web = Readable.toWeb(input) as unknown as ReadableStream<Uint8Array>;
  const encrypted = await encrypter.encrypt(web);
  return Readable.fromWeb(encrypted as unknown as WebReadableStream<Uint8Array>);
}

export async function decryptStream(input: Readable, passphrase: string, where: string): Promise<Readable> {
  const { Decrypter } = await import('age-encryption');
  const decrypter = new Decrypter();
  decrypter.addPassphrase(passphrase);
  const web = Readable.toWeb(input) as unknown as ReadableStream<Uint8Array>;
  let decrypted: ReadableStream<Uint8Array>;
  try {
    decrypted = await decrypter.decrypt(web);
  } catch (error) {
    const text = (error as Error).message;
    if (/passphrase|identity|decrypt|unwrap|mac/i.test(text)) {
      throw new UsageError(`Cannot decrypt ${where}: wrong passphrase (${text})`, {
        hint: 'give the passphrase the archive was made with (WAHA_STORAGE_BACKUP_PASSPHRASE, --passphrase-file, or the prompt)',
      });
    }
    throw error;
  }
  return Readable.fromWeb(decrypted as unknown as WebReadableStream<Uint8Array>);
}

/** Reads the first `count` bytes of a stream and puts them back, so the caller can sniff the format. */
export async function peek(stream: Readable, count: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let length = 0;
  for (;;) {
    const chunk = stream.read() as Buffer | null;
    if (chunk) {
      chunks.push(chunk);
      length += chunk.length;
      if (length >= count) break;
      continue;
    }
    if (stream.readableEnded || stream.destroyed) break;
    const ended = await new Promise<boolean>((resolve, reject) => {
      const cleanup = () => {
        stream.off('readable', onReadable);
        stream.off('end', onEnd);
        stream.off('error', onError);
      };
      const onReadable = () => { cleanup(); resolve(false); };
      const onEnd = () => { cleanup(); resolve(true); };
      const onError = (error: Error) => { cleanup(); reject(error); };
      stream.on('readable', onReadable);
      stream.on('end', onEnd);
      stream.on('error', onError);
    });
    if (ended) break;
  }
  const head = Buffer.concat(chunks);
  if (head.length) stream.unshift(head);
  return head.subarray(0, count);
}
