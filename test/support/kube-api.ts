/**
 * Test helper (never a test itself): a loopback HTTP server answering exactly the Kubernetes API
 * paths `caisson submit` uses, for namespace `builds` (no cluster exists here): the Task, the API
 * groups, TaskRuns (create, read, cancel by JSON patch), Pods (create, read, delete), a
 * container's log, and the attach websocket feeding a container's stdin. It records what it saw.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { acceptWebSocket } from './websocket.js';

export const RUN = 'caisson-x7k2p';
export const POD = `${RUN}-pod`;

/** What the fake API server does for one test, and what it saw. */
export interface KubeScenario {
  readonly task: 'present' | 'missing' | 'no-tekton';
  /** The run's outcome once its log was read; 'never': it runs (its log stays open) until cancelled or deleted. */
  readonly outcome: 'True' | 'False' | 'never';
  /** The subprotocols the attach endpoint accepts, in preference order. */
  readonly attachProtocols: readonly string[];
  readonly created: unknown[];
  readonly pods: unknown[];
  readonly logQueries: string[];
  readonly authorization: string[];
  /** `METHOD path` of every request, in order (`UPGRADE path` for the attach websocket). */
  readonly requests: string[];
  readonly patches: { readonly contentType: string; readonly body: unknown }[];
  readonly deleted: string[];
  readonly attachQueries: string[];
  /** The bytes sent to the container's stdin, and whether it was closed (close signal or detach). */
  stdin: Buffer;
  stdinClosed: boolean;
  attachProtocol: string;
  reads: number;
  podReads: number;
  /** Called with each request's `METHOD path` as it arrives. */
  onRequest?: (route: string) => void;
}

export function kubeScenario(task: KubeScenario['task'], outcome: KubeScenario['outcome'] = 'True', attachProtocols: readonly string[] = ['v5.channel.k8s.io', 'v4.channel.k8s.io']): KubeScenario {
  return { task, outcome, attachProtocols, created: [], pods: [], logQueries: [], authorization: [], requests: [], patches: [], deleted: [], attachQueries: [], stdin: Buffer.alloc(0), stdinClosed: false, attachProtocol: '', reads: 0, podReads: 0 };
}

function send(response: ServerResponse, status: number, body: unknown): void {
  response.writeHead(status, { 'content-type': 'application/json' });
  response.end(JSON.stringify(body));
}

function notFound(response: ServerResponse, message: string): void {
  send(response, 404, { kind: 'Status', apiVersion: 'v1', status: 'Failure', message, reason: 'NotFound', code: 404 });
}

function handle(state: KubeScenario, request: IncomingMessage, response: ServerResponse): void {
  const url = new URL(request.url ?? '/', 'http://localhost');
  state.authorization.push(request.headers.authorization ?? '');
  const chunks: Buffer[] = [];
  request.on('data', (chunk: Buffer) => chunks.push(chunk));
  request.on('end', () => {
    const route = `${request.method} ${url.pathname}`;
    state.requests.push(route);
    state.onRequest?.(route);
    const body = (): { metadata: Record<string, unknown> } => JSON.parse(Buffer.concat(chunks).toString('utf8')) as { metadata: Record<string, unknown> };
    if (route === 'GET /apis/tekton.dev/v1/namespaces/builds/tasks/caisson') {
      if (state.task === 'present') return send(response, 200, { apiVersion: 'tekton.dev/v1', kind: 'Task', metadata: { name: 'caisson', namespace: 'builds' } });
      return notFound(response, state.task === 'missing' ? 'tasks.tekton.dev "caisson" not found' : '404 page not found');
    }
    if (route === 'GET /apis') {
      const groups = state.task === 'no-tekton' ? [] : [{ name: 'tekton.dev', versions: [{ groupVersion: 'tekton.dev/v1', version: 'v1' }], preferredVersion: { groupVersion: 'tekton.dev/v1', version: 'v1' } }];
      return send(response, 200, { kind: 'APIGroupList', apiVersion: 'v1', groups });
    }
    if (route === 'POST /apis/tekton.dev/v1/namespaces/builds/taskruns') {
      const created = body();
      state.created.push(created);
      return send(response, 201, { ...created, metadata: { ...created.metadata, name: RUN } });
    }
    if (route === `GET /apis/tekton.dev/v1/namespaces/builds/taskruns/${RUN}`) {
      state.reads += 1;
      return send(response, 200, { metadata: { name: RUN, namespace: 'builds' }, status: taskRunStatus(state) });
    }
    if (route === `PATCH /apis/tekton.dev/v1/namespaces/builds/taskruns/${RUN}`) {
      state.patches.push({ contentType: request.headers['content-type'] ?? '', body: JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown });
      return send(response, 200, { metadata: { name: RUN, namespace: 'builds' }, spec: { status: 'TaskRunCancelled' } });
    }
    if (route === 'POST /api/v1/namespaces/builds/pods') {
      const created = body();
      state.pods.push(created);
      return send(response, 201, { ...created, metadata: { ...created.metadata, name: POD } });
    }
    if (route === `GET /api/v1/namespaces/builds/pods/${POD}`) {
      state.podReads += 1;
      return send(response, 200, { apiVersion: 'v1', kind: 'Pod', metadata: { name: POD, namespace: 'builds' }, status: podStatus(state) });
    }
    if (route === `DELETE /api/v1/namespaces/builds/pods/${POD}`) {
      state.deleted.push(POD);
      return send(response, 200, { apiVersion: 'v1', kind: 'Pod', metadata: { name: POD, namespace: 'builds' } });
    }
    if (route === `GET /api/v1/namespaces/builds/pods/${POD}/log`) {
      state.logQueries.push(url.search);
      response.writeHead(200, { 'content-type': 'text/plain' });
      response.write('INFO building stage 0\n');
      if (state.outcome === 'never') return;
      setTimeout(() => response.end(state.outcome === 'True' ? 'INFO pushed registry.example/app:1\n' : 'ERROR Dockerfile:3: RUN exited with 3\n'), 20);
      return;
    }
    send(response, 418, { kind: 'Status', message: `unexpected ${route}` });
  });
}

/** The attach websocket: channel 0 is stdin; `255 0` (v5) closes it, as does detaching. */
function upgrade(state: KubeScenario, request: IncomingMessage, socket: Duplex): void {
  const url = new URL(request.url ?? '/', 'http://localhost');
  state.requests.push(`UPGRADE ${url.pathname}`);
  state.authorization.push(request.headers.authorization ?? '');
  if (url.pathname !== `/api/v1/namespaces/builds/pods/${POD}/attach`) {
    socket.end('HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n');
    return;
  }
  state.attachQueries.push(url.search);
  const session = acceptWebSocket({ request, socket, protocols: state.attachProtocols });
  state.attachProtocol = session.protocol;
  const take = (): void => {
    for (const message of session.messages.splice(0)) {
      if (message[0] === 0) state.stdin = Buffer.concat([state.stdin, message.subarray(1)]);
      else if (message[0] === 255 && message[1] === 0) state.stdinClosed = true;
    }
  };
  socket.on('data', () => setImmediate(take));
  void session.closed.then(() => {
    take();
    state.stdinClosed = true;
  });
}

function taskRunStatus(state: KubeScenario): Record<string, unknown> {
  const started = state.reads > 1;
  const done = state.logQueries.length > 0 && state.outcome !== 'never';
  const condition = done
    ? { type: 'Succeeded', status: state.outcome, reason: state.outcome === 'True' ? 'Succeeded' : 'Failed', message: state.outcome === 'True' ? 'All Steps have completed executing' : '"step-build-and-push" exited with code 3' }
    : { type: 'Succeeded', status: 'Unknown', reason: 'Running' };
  const results = done && state.outcome === 'True' ? [{ name: 'IMAGE_DIGEST', value: `sha256:${'a'.repeat(64)}` }, { name: 'IMAGE_URL', value: 'registry.example/app:1' }] : [];
  return { ...(started ? { podName: POD } : {}), conditions: [condition], results };
}

/** The plain Pod's status: Pending (container creating), Running until its log was read (and its stdin closed, if it has one), then done. */
function podStatus(state: KubeScenario): Record<string, unknown> {
  const container = (containerState: unknown): unknown => [{ name: 'build-and-push', image: 'builder.example/caisson:1', imageID: '', ready: false, restartCount: 0, state: containerState }];
  if (state.podReads === 1) return { phase: 'Pending', containerStatuses: container({ waiting: { reason: 'ContainerCreating' } }) };
  if (state.logQueries.length === 0 || state.outcome === 'never') return { phase: 'Running', containerStatuses: container({ running: { startedAt: '2026-01-01T00:00:00Z' } }) };
  const ok = state.outcome === 'True';
  return { phase: ok ? 'Succeeded' : 'Failed', containerStatuses: container({ terminated: { exitCode: ok ? 0 : 3, reason: ok ? 'Completed' : 'Error' } }) };
}

export interface KubeApiServer {
  readonly server: Server;
  /** http://127.0.0.1:<port> */
  readonly url: string;
  /** Closes every connection (open logs, websockets) and the server. */
  close(): Promise<void>;
}

export async function listenKubeApi(state: KubeScenario): Promise<KubeApiServer> {
  const server = createServer((request, response) => handle(state, request, response));
  const sockets = new Set<Duplex>();
  server.on('upgrade', (request: IncomingMessage, socket: Duplex) => {
    sockets.add(socket);
    upgrade(state, request, socket);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    server,
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

/** A kubeconfig for `server` (plain HTTP: insecure-skip-tls-verify), user token `test-token-123`, namespace builds. */
export function testKubeconfig(server: string): string {
  return [
    'apiVersion: v1',
    'kind: Config',
    'clusters:',
    '- name: test',
    '  cluster:',
    `    server: ${server}`,
    '    insecure-skip-tls-verify: true',
    'users:',
    '- name: tester',
    '  user:',
    '    token: test-token-123',
    'contexts:',
    '- name: test',
    '  context:',
    '    cluster: test',
    '    user: tester',
    '    namespace: builds',
    'current-context: test',
    '',
  ].join('\n');
}
