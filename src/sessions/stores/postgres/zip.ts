/**
 * The zip WAHA keeps in `files.content` (WEBJS RemoteAuth, WPP), built into a temporary file from
 * file entries with fixed times (the same entries always give the same bytes), memory bounded.
 */
import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import yazl from 'yazl';

const FIXED_ZIP_TIME = new Date('2000-01-01T00:00:00Z');
const BACKLOG = 16 * 1024 * 1024;

export class ZipFileWriter {
  private readonly zip = new yazl.ZipFile();
  private readonly done: Promise<void>;
  private readonly directories = new Set<string>();
  private added = 0;
  private emitted = 0;

  constructor(readonly file: string) {
    this.zip.outputStream.on('data', (chunk: Buffer) => { this.emitted += chunk.length; });
    this.done = pipeline(this.zip.outputStream, createWriteStream(file));
    this.done.catch(() => {}); // awaited in end()
  }

  async add(name: string, data: Buffer): Promise<void> {
    const parts = name.split('/');
    for (let index = 1; index < parts.length; index++) {
      const directory = parts.slice(0, index).join('/');
      if (this.directories.has(directory)) continue;
      this.directories.add(directory);
      this.zip.addEmptyDirectory(directory, { mtime: FIXED_ZIP_TIME });
    }
    this.zip.addBuffer(data, name, { mtime: FIXED_ZIP_TIME });
    this.added += data.length;
    while (this.added - this.emitted > BACKLOG) await Promise.race([once(this.zip.outputStream, 'data'), this.done]);
  }

  /** An empty folder (and its parents). */
  addDirectory(name: string): void {
    const parts = name.replace(/\/$/, '').split('/');
    for (let index = 1; index <= parts.length; index++) {
      const directory = parts.slice(0, index).join('/');
      if (this.directories.has(directory)) continue;
      this.directories.add(directory);
      this.zip.addEmptyDirectory(directory, { mtime: FIXED_ZIP_TIME });
    }
  }

  async end(): Promise<void> {
    this.zip.end();
    await this.done;
  }
}
