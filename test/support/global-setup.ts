import type { TestProject } from 'vitest/node';
import { startMongo, startS3, type RunningServer } from './servers.js';

declare module 'vitest' {
  export interface ProvidedContext {
    mongoUrl: string;
    s3Endpoint: string;
    s3Directory: string;
  }
}

const running: RunningServer[] = [];

export async function setup(project: TestProject): Promise<void> {
  try {
    const [mongo, s3] = await Promise.all([startMongo(), startS3()]);
    running.push(mongo, s3);
    process.stderr.write(`[test servers] MongoDB: ${mongo.description} at ${mongo.url}; S3: ${s3.description} at ${s3.url}\n`);
    project.provide('mongoUrl', mongo.url);
    project.provide('s3Endpoint', s3.url);
    project.provide('s3Directory', s3.directory ?? '');
  } catch (error) {
    await teardown();
    throw new Error(`The test servers could not be started: ${(error as Error).message}`);
  }
}

export async function teardown(): Promise<void> {
  await Promise.all(running.splice(0).map((server) => server.stop()));
}
