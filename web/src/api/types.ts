// Shapes of the lambdaflow HTTP API (docs/api.md). The designer programs against these only.

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };
export type Scalar = null | boolean | number | string;

/**
 * What a component does that the designer shows: the designer decides by these, never by the
 * type's name.
 */
export interface ComponentCapabilities {
  /** Takes messages typed in the designer (`POST …/send`): a Send tab and a Send button on its card. */
  acceptsSend: boolean;
  /** Keeps the messages it receives (`GET …/messages`): a Messages tab and a preview on its card. */
  showsMessages: boolean;
  /** Calls an external service: latency, request/response records; its Test opens first. */
  invokes: boolean;
}

/**
 * A listing the server answers for a config field (`POST /api/components/{type}/actions/{name}`
 * with the node's config): the picker of the field `field` (a JSON pointer into the config) calls it.
 */
export interface ComponentAction {
  name: string;
  title: string;
  field: string;
}

export interface ComponentDescriptor {
  type: string;
  title: string;
  description: string;
  inputs: string[];
  outputs: string[];
  schema: JsonObject;
  uiSchema: JsonObject;
  capabilities: ComponentCapabilities;
  actions: ComponentAction[];
}

/** The body of a component action: the node's config as the sheet holds it, and optionally the
 * flow and node whose stored secrets may stand in for the ones the designer cannot send back. */
export interface ActionRequest {
  config: JsonObject;
  flow?: string;
  node?: string;
}

export interface Position {
  x: number;
  y: number;
}

export interface FlowNode {
  id: string;
  type: string;
  name: string;
  position: Position;
  config: JsonObject;
  /** JSON pointers (into `config`) of write-only values the server holds. Returned by GET/PUT. */
  secretsSet?: string[];
  /** JSON pointers of stored secrets to remove on the next PUT. */
  secretsClear?: string[];
}

export interface PortRef {
  node: string;
  port: string;
}

/** How messages travel along a route (`flow.schema.json` `$defs.edge.transport`). */
export type EdgeTransport = 'local' | 'jetstream';

export interface FlowEdge {
  id: string;
  from: PortRef;
  to: PortRef;
  /** Omitted for `local`, the default: an in-process queue. */
  transport?: EdgeTransport;
  /** JetStream routes only: the message property whose value picks the partition. */
  partitionKey?: string;
}

export interface FlowDocument {
  id: string;
  name: string;
  description?: string;
  nodes: FlowNode[];
  edges: FlowEdge[];
  rev?: string;
}

export type FlowState = 'running' | 'stopped';
export type NodeState = 'starting' | 'running' | 'stopped' | 'failed';

export interface FlowSummary {
  id: string;
  name: string;
  description?: string;
  rev?: string;
  state: FlowState;
}

export interface ErrorDetail {
  node: string | null;
  pointer: string;
  message: string;
}

export interface ApiErrorBody {
  error: string;
  details: ErrorDetail[];
}

export interface LastError {
  type: string;
  code: string;
  message: string;
  at?: string;
}

export interface NodeStatus {
  state: NodeState;
  received: number;
  emitted: number;
  errors: number;
  lastError?: LastError | null;
  /** Calls allowed in flight now, for a node whose limit adapts to throttling. */
  concurrencyLimit?: number;
}

export interface FlowStatus {
  flow: string;
  state: FlowState;
  nodes: Record<string, NodeStatus>;
}

/** One worker of a flow run over JetStream (`lambdaflow worker`), as it last reported. */
export interface WorkerReport {
  worker: string;
  running: boolean;
  nodes: Record<string, NodeStatus>;
}

/** `GET /api/flows/{id}/workers`: whether the server runs with a broker, and the workers it sees. */
export interface WorkersResponse {
  nats: boolean;
  workers: WorkerReport[];
}

export interface Message {
  id?: string;
  timestamp?: string;
  contentType?: string;
  body: string;
  bodyEncoding?: 'utf8' | 'base64';
  properties?: Record<string, Scalar>;
}

export interface SendRequest {
  body?: string;
  bodyEncoding?: 'utf8' | 'base64';
  contentType?: string;
  properties?: Record<string, Scalar>;
  count?: number;
  intervalMs?: number;
}

export interface MessagesResponse {
  messages: Message[];
  total: number;
}

export interface TestResponse {
  out: Message[];
  error: Message[];
  durationMs: number;
}

export interface LambdaFunctionInfo {
  name: string;
  arn?: string;
  runtime?: string;
  description?: string;
}

export interface QualifiersResponse {
  aliases: { name: string; functionVersion?: string }[];
  versions: string[];
}

/** What a component action answers: a listing of one of these shapes. */
export type ActionAnswer = Partial<{ functions: LambdaFunctionInfo[] } & QualifiersResponse> & JsonObject;

/** Events of `GET /api/flows/{id}/events`. */
export type FlowEvent =
  | { kind: 'status'; data: { node: string } & NodeStatus }
  | { kind: 'message'; data: { node: string; message: Message } }
  | { kind: 'error'; data: { node: string; record: JsonObject } }
  | { kind: 'flow'; data: { flow: string; state: FlowState } };
