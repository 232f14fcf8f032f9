import { describe, expect, it } from '@jest/globals';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { InvalidArgumentError, MissingDependencyError, type ModelStoreError, StoreConfigurationError } from './errors.js';
import { MemoryStorage } from './memory-storage.js';
import {
  bucketBackend,
  openModelStore,
  optionalVariables,
  parseStoreUri,
  readBucketStoreUri,
  readStoreUriOptions,
  requireHttpUrl,
  requireVariable,
  storeBackendPackages,
  storeTargetFromEnv,
  storeUriLocation,
  storeUriOptions,
  type Environment,
  type StoreBackend,
  type StoreUriOption,
} from './open-model-store.js';

/** Captures what a call throws, to check its class, code and message together. */
function thrown(run: () => unknown): ModelStoreError {
  try {
    run();
  } catch (error) {
    return error as ModelStoreError;
  }
  throw new Error('expected an error');
}

async function rejected(promise: Promise<unknown>): Promise<ModelStoreError> {
  try {
    await promise;
  } catch (error) {
    return error as ModelStoreError;
  }
  throw new Error('expected a rejection');
}

const s3Like: StoreUriOption[] = [
  { name: 'region', type: 'string', description: 'the region' },
  { name: 'endpoint', type: 'url', description: 'an S3-compatible endpoint' },
  { name: 'forcePathStyle', type: 'boolean', description: 'path-style addressing' },
  { name: 'partSize', type: 'number', description: 'bytes per part' },
];

describe('parseStoreUri: the scheme picks the package, nothing else is read here', () => {
  it('maps each built-in scheme, and a plain path to a file:// URL of its absolute path', () => {
    expect(parseStoreUri('s3://bucket/a/b?region=eu-west-1').package).toBe('@modelstore/storage-s3');
    expect(parseStoreUri('S3://bucket').package).toBe('@modelstore/storage-s3');
    expect(parseStoreUri('gs://bucket').package).toBe('@modelstore/storage-gcs');
    expect(parseStoreUri('gcs://bucket').package).toBe('@modelstore/storage-gcs');
    expect(parseStoreUri('azure://container/p').package).toBe('@modelstore/storage-azure');
    expect(parseStoreUri('file:///srv/models').package).toBe('@modelstore/storage-fs');
    const plain = parseStoreUri('./models/a b#1');
    expect(plain.package).toBe('@modelstore/storage-fs');
    expect(plain.uri.href).toBe(pathToFileURL(path.resolve('./models/a b#1')).href);
    expect(parseStoreUri('s3://bucket/a/b?region=eu-west-1').uri.searchParams.get('region')).toBe('eu-west-1');
  });

  it('refuses an unknown scheme with an InvalidArgumentError listing the known ones', () => {
    const error = thrown(() => parseStoreUri('ftp://host/models'));
    expect(error).toBeInstanceOf(InvalidArgumentError);
    expect(error.code).toBe('INVALID_ARGUMENT');
    expect(error.message).toBe('Unknown store URI scheme "ftp://": use file://, s3://, gs://, gcs://, azure:// (or a plain path)');
    expect(parseStoreUri('r2://bucket', [{ package: '@acme/r2', uriSchemes: ['r2'] }]).package).toBe('@acme/r2');
    expect(thrown(() => parseStoreUri('s3://[bucket'))).toBeInstanceOf(InvalidArgumentError);
    // A known scheme without its // is a mistake, not a folder named "s3:bucket".
    expect(thrown(() => parseStoreUri('s3:models/team')).message).toBe('"s3:models/team" is missing the // after s3: write s3://models/team');
    expect(thrown(() => parseStoreUri('gs:/models'))).toBeInstanceOf(InvalidArgumentError);
    expect(thrown(() => parseStoreUri('file:models')).message).toBe('"file:models" is missing the // after file: write file:///absolute/path, or the path alone (models)');
    expect(parseStoreUri('notes:v1').uri.href).toBe(pathToFileURL(path.resolve('notes:v1')).href);
  });
});

describe('storeTargetFromEnv: MODEL_STORE_STORAGE picks the package', () => {
  it("maps each of Python modelstore 0.0.82's storage names", () => {
    const byName = Object.fromEntries(['filesystem', 'aws-s3', 'minio', 'backblaze-b2', 'google-cloud-storage', 'azure-container'].map((name) => [name, storeTargetFromEnv({ MODEL_STORE_STORAGE: name }).package]));
    expect(byName).toEqual({
      filesystem: '@modelstore/storage-fs',
      'aws-s3': '@modelstore/storage-s3',
      minio: '@modelstore/storage-s3',
      'backblaze-b2': '@modelstore/storage-s3',
      'google-cloud-storage': '@modelstore/storage-gcs',
      'azure-container': '@modelstore/storage-azure',
    });
  });

  it('"No store given" is a StoreConfigurationError naming --store, MODELSTORE_STORE and MODEL_STORE_*', () => {
    for (const env of [{}, { MODEL_STORE_STORAGE: '' }]) {
      const error = thrown(() => storeTargetFromEnv(env)) as StoreConfigurationError;
      expect(error).toBeInstanceOf(StoreConfigurationError);
      expect(error.code).toBe('STORE_CONFIGURATION');
      expect(error.message).toMatch(/^No store given: .*--store.*MODELSTORE_STORE.*MODEL_STORE_STORAGE and its MODEL_STORE_\* variables/);
      expect(error.settings).toEqual(['--store', 'MODELSTORE_STORE', 'MODEL_STORE_STORAGE']);
    }
  });

  it('an unknown MODEL_STORE_STORAGE lists the known names', () => {
    const error = thrown(() => storeTargetFromEnv({ MODEL_STORE_STORAGE: 'hdfs' }));
    expect(error).toBeInstanceOf(StoreConfigurationError);
    expect(error.message).toBe('MODEL_STORE_STORAGE="hdfs" is not one of filesystem, aws-s3, minio, backblaze-b2, google-cloud-storage, azure-container');
  });

  it('requireVariable names the variable that is unset or empty', () => {
    for (const env of [{ MODEL_STORE_STORAGE: 'filesystem' }, { MODEL_STORE_STORAGE: 'filesystem', MODEL_STORE_ROOT_PREFIX: '' }]) {
      const error = thrown(() => requireVariable(env, 'MODEL_STORE_ROOT_PREFIX')) as StoreConfigurationError;
      expect(error).toBeInstanceOf(StoreConfigurationError);
      expect(error.message).toBe('MODEL_STORE_STORAGE=filesystem needs MODEL_STORE_ROOT_PREFIX to be set');
      expect(error.settings).toEqual(['MODEL_STORE_ROOT_PREFIX']);
    }
    expect(requireVariable({ A: 'x' }, 'A')).toBe('x');
  });
});

describe('readStoreUriOptions, storeUriLocation, requireHttpUrl: the helpers backends read URIs with', () => {
  it('reads strings, booleans, numbers and URLs', () => {
    expect(readStoreUriOptions(new URL('s3://b/p?region=eu-west-1&forcePathStyle=1&partSize=5242880&endpoint=http%3A%2F%2F127.0.0.1%3A9000'), s3Like)).toEqual({
      region: 'eu-west-1',
      forcePathStyle: true,
      partSize: 5242880,
      endpoint: 'http://127.0.0.1:9000',
    });
    expect(readStoreUriOptions(new URL('s3://b?forcePathStyle=false'), s3Like)).toEqual({ forcePathStyle: false });
  });

  it('an unknown option is an InvalidArgumentError listing the known ones', () => {
    const error = thrown(() => readStoreUriOptions(new URL('s3://models/registry?regoin=eu-west-1'), s3Like)) as InvalidArgumentError;
    expect(error).toBeInstanceOf(InvalidArgumentError);
    expect(`${error.name}: ${error.message}`).toBe('InvalidArgumentError: unknown option "regoin" for s3:// URIs (known: region, endpoint, forcePathStyle, partSize)');
    expect(error.argument).toBe('regoin');
    expect(thrown(() => readStoreUriOptions(new URL('file:///x?a=1'), [])).message).toBe('unknown option "a" for file:// URIs (known: none)');
  });

  it('refuses secrets, repeated options and values of the wrong type', () => {
    for (const uri of ['s3://b?secretAccessKey=x', 'azure://c?connectionString=x', 's3://b?credentials=x', 'azure://c?sasToken=x']) {
      const error = thrown(() => readStoreUriOptions(new URL(uri), s3Like));
      expect(error).toBeInstanceOf(InvalidArgumentError);
      expect(error.message).toMatch(/^Store URIs do not carry secrets/);
    }
    expect(thrown(() => readStoreUriOptions(new URL('s3://b?region=a&region=b'), s3Like)).message).toBe('option "region" is given twice in a s3:// URI');
    expect(thrown(() => readStoreUriOptions(new URL('s3://b?forcePathStyle=yes'), s3Like)).message).toBe('option "forcePathStyle" of s3:// URIs takes true or false, got "yes"');
    expect(thrown(() => readStoreUriOptions(new URL('s3://b?partSize=5MiB'), s3Like)).message).toBe('option "partSize" of s3:// URIs takes a number (bytes per part), got "5MiB"');
    expect(thrown(() => readStoreUriOptions(new URL('s3://b?partSize='), s3Like))).toBeInstanceOf(InvalidArgumentError);
  });

  it('an endpoint without a scheme says to add http:// or https://', () => {
    const error = thrown(() => readStoreUriOptions(new URL('s3://b?endpoint=127.0.0.1:9000'), s3Like));
    expect(error).toBeInstanceOf(InvalidArgumentError);
    expect(error.message).toBe('endpoint "127.0.0.1:9000" has no scheme: add http:// or https:// (http://127.0.0.1:9000 for a local emulator)');
    expect(thrown(() => requireHttpUrl('apiEndpoint', 'localhost')).message).toMatch(/has no scheme: add http:\/\/ or https:\/\//);
    expect(thrown(() => requireHttpUrl('apiEndpoint', 'ftp://host')).message).toBe('apiEndpoint "ftp://host" is not an http:// or https:// URL');
    expect(requireHttpUrl('apiEndpoint', 'https://storage.example.com')).toBe('https://storage.example.com');
  });

  it('reads the bucket and prefix, and refuses a missing bucket or a user in the URI', () => {
    expect(storeUriLocation(new URL('s3://bucket/a/b/'), 'bucket')).toEqual({ name: 'bucket', prefix: 'a/b' });
    expect(storeUriLocation(new URL('s3://bucket'), 'bucket')).toEqual({ name: 'bucket' });
    expect(storeUriLocation(new URL('azure://c/team%20a'), 'container')).toEqual({ name: 'c', prefix: 'team a' });
    expect(thrown(() => storeUriLocation(new URL('s3:///prefix'), 'bucket')).message).toBe('s3:// URIs name a bucket: s3://<bucket>/<prefix>');
    const credentials = thrown(() => storeUriLocation(new URL('s3://AKIA:secret@bucket/p'), 'bucket'));
    expect(credentials).toBeInstanceOf(InvalidArgumentError);
    expect(credentials.message).not.toMatch(/secret@|AKIA/);
    expect(thrown(() => storeUriLocation(new URL('s3://b/%E0%A4%A'), 'bucket'))).toBeInstanceOf(InvalidArgumentError);
  });
});

describe('storeUriOptions, readBucketStoreUri, optionalVariables: the tables and readers backends are built from', () => {
  it('storeUriOptions turns a table of "<type>: <description>" into describeOptions, in order', () => {
    expect(storeUriOptions({ region: "string: the bucket's region", endpoint: 'url: an endpoint: http:// or https://', partSize: 'number: bytes per part' })).toEqual([
      { name: 'region', type: 'string', description: "the bucket's region" },
      { name: 'endpoint', type: 'url', description: 'an endpoint: http:// or https://' },
      { name: 'partSize', type: 'number', description: 'bytes per part' },
    ]);
    const error = thrown(() => storeUriOptions({ size: 'integer: bytes' } as never));
    expect(error).toBeInstanceOf(InvalidArgumentError);
    expect(error.message).toBe('store URI option "size" must be described as "<type>: <description>" with a type of string, boolean, number, url, got "integer: bytes"');
  });

  it('readBucketStoreUri reads the options, the bucket under its own name and the prefix as rootPrefix', () => {
    expect(readBucketStoreUri(new URL('s3://models/team/a/?region=eu-west-1&forcePathStyle=true'), 'bucket', s3Like)).toEqual({ region: 'eu-west-1', forcePathStyle: true, bucket: 'models', rootPrefix: 'team/a' });
    expect(readBucketStoreUri(new URL('azure://box'), 'container', [])).toEqual({ container: 'box' });
    expect(thrown(() => readBucketStoreUri(new URL('s3:///p'), 'bucket', s3Like)).message).toBe('s3:// URIs name a bucket: s3://<bucket>/<prefix>');
    expect(thrown(() => readBucketStoreUri(new URL('s3://b?regoin=x'), 'bucket', s3Like))).toBeInstanceOf(InvalidArgumentError);
  });

  it('optionalVariables keeps the variables that are set and not empty', () => {
    const env: Environment = { MODEL_STORE_GCP_PROJECT: 'p', MODEL_STORE_GCP_ROOT_PREFIX: '' };
    expect(optionalVariables(env, { projectId: 'MODEL_STORE_GCP_PROJECT', rootPrefix: 'MODEL_STORE_GCP_ROOT_PREFIX', region: 'MODEL_STORE_REGION' })).toEqual({ projectId: 'p' });
    expect(optionalVariables({}, { rootPrefix: 'MODEL_STORE_ROOT_PREFIX' })).toEqual({});
  });

  it('bucketBackend makes the StoreBackend exports from a table: schemes, options, variables and create', () => {
    type Options = { box: string; rootPrefix?: string; region?: string; token?: string };
    const created: Options[] = [];
    const backend = bucketBackend<Options, MemoryStorage>({
      schemes: ['box'],
      location: 'box',
      options: { region: "string: the box's region" },
      environment: {
        'box-store': { required: { box: 'BOX_NAME' }, optional: { region: 'BOX_REGION' } },
        'box-token': (env) => ({ box: 'fixed', token: requireVariable(env, 'BOX_TOKEN') }),
      },
      create(options) {
        created.push(options);
        return new MemoryStorage();
      },
    });
    expect([backend.uriSchemes, backend.pythonStorageNames, backend.describeOptions]).toEqual([['box'], ['box-store', 'box-token'], [{ name: 'region', type: 'string', description: "the box's region" }]]);
    expect(backend.fromStoreUri(new URL('box://b1/team/x?region=north'))).toEqual({ region: 'north', box: 'b1', rootPrefix: 'team/x' });
    expect(thrown(() => backend.fromStoreUri(new URL('box://b1?size=3')))).toBeInstanceOf(InvalidArgumentError);
    const { fromEnvironment } = backend; // works unbound, as a module export
    expect(fromEnvironment({ MODEL_STORE_STORAGE: 'box-store', BOX_NAME: 'b2', BOX_REGION: '' })).toEqual({ box: 'b2' });
    expect(fromEnvironment({ MODEL_STORE_STORAGE: 'box-store', BOX_NAME: 'b2', BOX_REGION: 'south' })).toEqual({ box: 'b2', region: 'south' });
    expect(fromEnvironment({ MODEL_STORE_STORAGE: 'box-token', BOX_TOKEN: 't' })).toEqual({ box: 'fixed', token: 't' });
    expect((thrown(() => fromEnvironment({ MODEL_STORE_STORAGE: 'box-store' })) as StoreConfigurationError).settings).toEqual(['BOX_NAME']);
    for (const other of ['aws-s3', 'constructor', 'toString', undefined]) expect(fromEnvironment({ MODEL_STORE_STORAGE: other, BOX_NAME: 'b' })).toBeUndefined();
    expect(backend.createStorage({ box: 'b3' })).toBeInstanceOf(MemoryStorage);
    expect(created).toEqual([{ box: 'b3' }]);
  });
});

/** A backend package as a module namespace, holding what it was asked in `calls`. */
function fakeBackend(calls: string[]): StoreBackend<{ bucket: string; prefix?: string; region?: string }> {
  const describeOptions: StoreUriOption[] = [{ name: 'region', type: 'string', description: 'the region' }];
  return {
    uriSchemes: ['mem'],
    pythonStorageNames: ['memory'],
    describeOptions,
    fromStoreUri(url: URL) {
      const { name, prefix } = storeUriLocation(url, 'bucket');
      calls.push(`uri ${url.href}`);
      return { bucket: name, ...(prefix ? { prefix } : {}), ...readStoreUriOptions(url, describeOptions) };
    },
    fromEnvironment(env: Environment) {
      if (env.MODEL_STORE_STORAGE !== 'memory') return undefined;
      calls.push('env');
      return { bucket: requireVariable(env, 'MEMORY_BUCKET') };
    },
    createStorage(options) {
      calls.push(`create ${JSON.stringify(options)}`);
      return new MemoryStorage();
    },
  };
}

describe('openModelStore: any backend package, through the importer', () => {
  const backends = [{ package: '@acme/modelstore-memory', uriSchemes: ['mem'], pythonStorageNames: ['memory'] }];

  it('opens a new scheme of a package made known through `backends`, with core knowing nothing of its options', async () => {
    const calls: string[] = [];
    const imported: string[] = [];
    const importer = async (name: string) => (imported.push(name), fakeBackend(calls));
    const store = await openModelStore('mem://models/team?region=moon-1', { backends, importer, checkConditionalWrites: false });
    expect(imported).toEqual(['@acme/modelstore-memory']);
    expect(calls).toEqual(['uri mem://models/team?region=moon-1', 'create {"bucket":"models","prefix":"team","region":"moon-1"}']);
    await store.createModelState('production');
    expect(await store.listModelStates()).toEqual(['production']);
    const error = await rejected(openModelStore('mem://models?regoin=moon-1', { backends, importer }));
    expect(error).toBeInstanceOf(InvalidArgumentError);
    expect(error.message).toBe('unknown option "regoin" for mem:// URIs (known: region)');
    // Without `backends`, the scheme is unknown.
    expect(await rejected(openModelStore('mem://models', { importer }))).toBeInstanceOf(InvalidArgumentError);
  });

  it('reads MODELSTORE_STORE when no target is given, before MODEL_STORE_*; a target wins over both', async () => {
    const calls: string[] = [];
    const importer = async () => fakeBackend(calls);
    await openModelStore(undefined, { backends, importer, env: { MODELSTORE_STORE: 'mem://from-variable', MODEL_STORE_STORAGE: 'memory', MEMORY_BUCKET: 'python' } });
    await openModelStore('', { backends, importer, env: { MODELSTORE_STORE: 'mem://from-variable-2' } });
    await openModelStore('mem://from-argument', { backends, importer, env: { MODELSTORE_STORE: 'mem://from-variable' } });
    await openModelStore(undefined, { backends, importer, env: { MODEL_STORE_STORAGE: 'memory', MEMORY_BUCKET: 'python' } });
    expect(calls.filter((call) => call.startsWith('create'))).toEqual(['create {"bucket":"from-variable"}', 'create {"bucket":"from-variable-2"}', 'create {"bucket":"from-argument"}', 'create {"bucket":"python"}']);
    const missing = (await rejected(openModelStore(undefined, { backends, importer, env: { MODEL_STORE_STORAGE: 'memory' } }))) as StoreConfigurationError;
    expect(missing).toBeInstanceOf(StoreConfigurationError);
    expect(missing.settings).toEqual(['MEMORY_BUCKET']);
    const none = await rejected(openModelStore(undefined, { importer, env: {} }));
    expect(none).toBeInstanceOf(StoreConfigurationError);
    expect(none.message).toMatch(/^No store given/);
  });

  it('a package that is not installed is a MissingDependencyError naming it, with the install command', async () => {
    const importer = async (name: string) => {
      throw Object.assign(new Error(`Cannot find package '${name}'`), { code: 'ERR_MODULE_NOT_FOUND' });
    };
    for (const [uri, packageName] of [
      ['s3://b', '@modelstore/storage-s3'],
      ['gs://b', '@modelstore/storage-gcs'],
      ['azure://c', '@modelstore/storage-azure'],
      ['mem://b', '@acme/modelstore-memory'],
    ] as const) {
      const error = (await rejected(openModelStore(uri, { backends, importer }))) as MissingDependencyError;
      expect(error).toBeInstanceOf(MissingDependencyError);
      expect(error.code).toBe('MISSING_DEPENDENCY');
      expect(error.packageName).toBe(packageName);
      expect(error.message).toBe(`This store needs ${packageName}: npm install ${packageName}`);
    }
  });

  it('a package without the StoreBackend exports, or one that fails to load, is a MissingDependencyError, never a raw error', async () => {
    const old = await rejected(openModelStore('s3://b', { importer: async () => ({ S3Storage: class {} }) }));
    expect(old).toBeInstanceOf(MissingDependencyError);
    expect(old.message).toBe('@modelstore/storage-s3 does not export fromStoreUri, fromEnvironment and createStorage: install a version of @modelstore/storage-s3 that matches @modelstore/core');
    const broken = await rejected(
      openModelStore('s3://b', {
        importer: async () => {
          throw new SyntaxError('Unexpected token');
        },
      }),
    );
    expect(broken).toBeInstanceOf(MissingDependencyError);
    expect(broken.message).toBe('@modelstore/storage-s3 could not be loaded (Unexpected token): reinstall it');
  });

  it('a backend that throws a raw error is reported as a StoreConfigurationError with the cause', async () => {
    const cause = new TypeError('Cannot read properties of undefined');
    const importer = async () => ({
      ...fakeBackend([]),
      createStorage: () => {
        throw cause;
      },
    });
    const error = await rejected(openModelStore('mem://b', { backends, importer }));
    expect(error).toBeInstanceOf(StoreConfigurationError);
    expect(error.cause).toBe(cause);
    expect(error.message).toBe('@acme/modelstore-memory could not create its storage: Cannot read properties of undefined');
  });

  it('the built-in table maps each scheme to one package', () => {
    const schemes = storeBackendPackages.flatMap((backend) => backend.uriSchemes);
    expect(new Set(schemes).size).toBe(schemes.length);
    expect(schemes).toEqual(['file', 's3', 'gs', 'gcs', 'azure']);
  });
});
