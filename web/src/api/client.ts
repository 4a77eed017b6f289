// A thin typed client for the lambdaflow HTTP API (docs/api.md).
import type {
  ActionAnswer,
  ActionRequest,
  ApiErrorBody,
  ComponentDescriptor,
  ErrorDetail,
  FlowDocument,
  FlowStatus,
  FlowSummary,
  JsonObject,
  Message,
  MessagesResponse,
  SendRequest,
  TestResponse,
  WorkersResponse,
} from './types';

/** An error answered by the server (or a network failure, with status 0). */
export class ApiError extends Error {
  readonly status: number;
  readonly details: ErrorDetail[];

  constructor(status: number, message: string, details: ErrorDetail[] = []) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.details = details;
  }

  get isConflict(): boolean {
    return this.status === 409 || this.status === 412;
  }
}

const TOKEN_KEY = 'lambdaflow.token';

function readToken(): string | null {
  try {
    return window.localStorage.getItem(TOKEN_KEY);
  } catch {
    return null;
  }
}

export function setToken(token: string | null): void {
  try {
    if (token) window.localStorage.setItem(TOKEN_KEY, token);
    else window.localStorage.removeItem(TOKEN_KEY);
  } catch {
    // storage may be unavailable (private mode); the token then lasts for this page only
  }
  memoryToken = token;
}

let memoryToken: string | null = typeof window === 'undefined' ? null : readToken();

export function currentToken(): string | null {
  return memoryToken;
}

function enc(s: string): string {
  return encodeURIComponent(s);
}

async function parseError(res: Response): Promise<ApiError> {
  let body: Partial<ApiErrorBody> | null = null;
  try {
    body = (await res.json()) as Partial<ApiErrorBody>;
  } catch {
    body = null;
  }
  const message = body?.error ?? `${res.status} ${res.statusText || 'request failed'}`;
  const details = Array.isArray(body?.details) ? body.details : [];
  return new ApiError(res.status, message, details);
}

interface RequestOptions {
  method?: string;
  body?: unknown;
  headers?: Record<string, string>;
}

export interface ResponseWithHeaders<T> {
  data: T;
  status: number;
  headers: Headers;
}

async function request<T>(path: string, opts: RequestOptions = {}): Promise<ResponseWithHeaders<T>> {
  const headers: Record<string, string> = { Accept: 'application/json', ...opts.headers };
  if (opts.body !== undefined) headers['Content-Type'] = 'application/json';
  const token = currentToken();
  if (token) headers.Authorization = `Bearer ${token}`;
  let res: Response;
  try {
    res = await fetch(path, {
      method: opts.method ?? 'GET',
      headers,
      body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
    });
  } catch (e) {
    throw new ApiError(0, `Cannot reach the lambdaflow server (${(e as Error).message})`);
  }
  if (!res.ok) throw await parseError(res);
  let data: T;
  if (res.status === 204) {
    data = undefined as T;
  } else {
    const text = await res.text();
    data = (text ? JSON.parse(text) : undefined) as T;
  }
  return { data, status: res.status, headers: res.headers };
}

async function get<T>(path: string): Promise<T> {
  return (await request<T>(path)).data;
}

async function post<T>(path: string, body: unknown = {}): Promise<T> {
  return (await request<T>(path, { method: 'POST', body })).data;
}

/**
 * The PUT body: the flow document without `rev` (sent as If-Match) and without `secretsSet`
 * (the server's bookkeeping); `secretsClear` only where the user removed a secret.
 */
export function putBody(doc: FlowDocument): FlowDocument {
  const body: FlowDocument = { id: doc.id, name: doc.name, nodes: [], edges: doc.edges };
  if (doc.description) body.description = doc.description;
  body.nodes = doc.nodes.map((n) => {
    const { secretsSet: _s, secretsClear, ...rest } = n;
    void _s;
    return secretsClear && secretsClear.length > 0 ? { ...rest, secretsClear } : rest;
  });
  return body;
}

export interface DeployAnswer {
  status: FlowStatus;
  rev: string;
  restarted: boolean;
  unchanged: boolean;
  /** Only node configs changed: these nodes took their new version, the rest ran on. */
  redeployed?: string[];
  /** `serve --nats` and a flow with a JetStream route: handed to the workers, not run here. */
  workers?: { revision: number };
}

export interface DeployedVersion {
  running: boolean;
  rev: string | null;
  flow: FlowDocument | null;
}

export const api = {
  health: () => get<{ status: string; version: string }>('/api/health'),
  components: () => get<ComponentDescriptor[]>('/api/components'),

  listFlows: () => get<FlowSummary[]>('/api/flows'),
  getFlow: (id: string) => get<FlowDocument>(`/api/flows/${enc(id)}`),
  /** PUT with `If-Match` when `rev` is given (a stale one answers 412). */
  saveFlow: async (doc: FlowDocument, rev?: string): Promise<{ flow: FlowDocument; created: boolean }> => {
    const headers: Record<string, string> = {};
    if (rev) headers['If-Match'] = `"${rev}"`;
    const res = await request<FlowDocument>(`/api/flows/${enc(doc.id)}`, { method: 'PUT', body: putBody(doc), headers });
    return { flow: res.data, created: res.status === 201 };
  },
  deleteFlow: (id: string) => request<void>(`/api/flows/${enc(id)}`, { method: 'DELETE' }).then(() => undefined),
  start: (id: string) => post<FlowStatus>(`/api/flows/${enc(id)}/start`),
  stop: (id: string) => post<FlowStatus>(`/api/flows/${enc(id)}/stop`),
  /** Deploy: start the saved version, restarting a run of an older one. */
  deploy: (id: string) => post<DeployAnswer>(`/api/flows/${enc(id)}/deploy`),
  /** The saved version the current or last run started from. */
  deployed: (id: string) => get<DeployedVersion>(`/api/flows/${enc(id)}/deploy`),
  status: (id: string) => get<FlowStatus>(`/api/flows/${enc(id)}/status`),
  /** The workers running the flow over JetStream (`nats: false` when the server has no broker). */
  workers: (id: string) => get<WorkersResponse>(`/api/flows/${enc(id)}/workers`),

  send: (flow: string, node: string, req: SendRequest) =>
    post<{ accepted: number }>(`/api/flows/${enc(flow)}/nodes/${enc(node)}/send`, req),
  messages: (flow: string, node: string) => get<MessagesResponse>(`/api/flows/${enc(flow)}/nodes/${enc(node)}/messages`),
  clearMessages: (flow: string, node: string) =>
    request<void>(`/api/flows/${enc(flow)}/nodes/${enc(node)}/messages`, { method: 'DELETE' }).then(() => undefined),

  testComponent: (type: string, body: { config: JsonObject; message: Message; flow?: string; node?: string }) =>
    post<TestResponse>(`/api/components/${enc(type)}/test`, body),

  /** A component's listing for one config field (e.g. the LambdaConnector's functions). */
  componentAction: (type: string, name: string, body: ActionRequest) => post<ActionAnswer>(`/api/components/${enc(type)}/actions/${enc(name)}`, body),

  eventsUrl: (id: string) => {
    const token = currentToken();
    return `/api/flows/${enc(id)}/events${token ? `?token=${enc(token)}` : ''}`;
  },
};

export type Api = typeof api;

export function describeError(e: unknown): string {
  if (e instanceof ApiError) return e.message;
  if (e instanceof Error) return e.message;
  return String(e);
}

export type { Message };
