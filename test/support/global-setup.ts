import type { TestProject } from 'vitest/node';
import { startMongo, startMoto, startPostgres, startS3, startVersitygw, type RunningServer } from './servers.js';

declare module 'vitest' {
  export interface ProvidedContext {
    mongoUrl: string;
    s3Endpoint: string;
    s3Directory: string;
    /** A second S3 server (versitygw, posix backend: objects are files under versitygwDirectory). */
    versitygwEndpoint: string;
    versitygwDirectory: string;
    /** moto's S3 server (stores lifecycle configurations; never runs them): `media lifecycle` tests. */
    motoEndpoint: string;
    /** A superuser URL (with a password) of a real PostgreSQL server, `?sslmode=disable`. */
    postgresUrl: string;
  }
}

const running: RunningServer[] = [];

export async function setup(project: TestProject): Promise<void> {
  // started alongside the others (Python starts slowly); stopped with them whatever fails
  const moto = startMoto().then((server) => { running.push(server); return server; });
  moto.catch(() => undefined);
  try {
    const [mongo, s3, postgres, versitygw] = await Promise.allSettled([startMongo(), startS3(), startPostgres(), startVersitygw()]).then((results) => {
      for (const result of results) if (result.status === 'fulfilled') running.push(result.value);
      const failed = results.find((result): result is PromiseRejectedResult => result.status === 'rejected');
      if (failed) throw failed.reason;
      return results.map((result) => (result as PromiseFulfilledResult<RunningServer>).value) as [RunningServer, RunningServer & { directory?: string }, RunningServer, RunningServer & { directory: string }];
    });
    process.stderr.write(`[test servers] MongoDB: ${mongo.description} at ${mongo.url}; S3: ${s3.description} at ${s3.url}; PostgreSQL: ${postgres.description}; second S3: ${versitygw.description} at ${versitygw.url}\n`);
    project.provide('motoEndpoint', (await moto).url);
    project.provide('postgresUrl', postgres.url);
    project.provide('mongoUrl', mongo.url);
    project.provide('s3Endpoint', s3.url);
    project.provide('s3Directory', s3.directory ?? '');
    project.provide('versitygwEndpoint', versitygw.url);
    project.provide('versitygwDirectory', versitygw.directory);
  } catch (error) {
    await moto.catch(() => undefined);
    await teardown();
    throw new Error(`The test servers could not be started: ${(error as Error).message}`);
  }
}

export async function teardown(): Promise<void> {
  await Promise.all(running.splice(0).map((server) => server.stop()));
}
