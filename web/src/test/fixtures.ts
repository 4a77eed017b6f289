// Component descriptors shaped like `GET /api/components` answers (docs/api.md), used by unit tests.
import type { ComponentDescriptor, FlowDocument } from '../api/types';

export const feederDescriptor: ComponentDescriptor = {
  type: 'feeder',
  title: 'Feeder',
  description: 'Sends messages typed in the designer, or configured ones.',
  inputs: [],
  outputs: ['out'],
  capabilities: { acceptsSend: true, showsMessages: false, invokes: false },
  actions: [],
  schema: {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    type: 'object',
    properties: {
      messages: {
        type: 'array',
        title: 'Messages',
        items: {
          type: 'object',
          properties: {
            body: { type: 'string', title: 'Body' },
            contentType: { type: 'string', title: 'Content type', default: 'application/json' },
          },
        },
      },
      sendOnStart: { type: 'boolean', title: 'Send on start', default: false },
      historySize: { type: 'integer', title: 'History size', minimum: 1, maximum: 1000, default: 10 },
    },
  },
  uiSchema: {},
};

export const displayDescriptor: ComponentDescriptor = {
  type: 'display',
  title: 'Display',
  description: 'Shows every message it receives and forwards it unchanged.',
  inputs: ['in'],
  outputs: ['out'],
  capabilities: { acceptsSend: false, showsMessages: true, invokes: false },
  actions: [],
  schema: {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    type: 'object',
    properties: {
      maxMessages: { type: 'integer', title: 'Visible message count', minimum: 0, default: 10 },
    },
  },
  uiSchema: {},
};

export const lambdaDescriptor: ComponentDescriptor = {
  type: 'lambda',
  title: 'LambdaConnector',
  description: 'Invokes an AWS Lambda function for each message.',
  inputs: ['in'],
  outputs: ['out', 'error'],
  capabilities: { acceptsSend: false, showsMessages: false, invokes: true },
  actions: [
    { name: 'functions', title: 'List the functions', field: '/functionName' },
    { name: 'qualifiers', title: 'List the aliases and versions', field: '/qualifier' },
  ],
  schema: {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    type: 'object',
    required: ['functionName'],
    properties: {
      connection: { $ref: '#/$defs/connection' },
      functionName: { type: 'string', title: 'Function name', minLength: 1 },
      qualifier: { type: 'string', title: 'Qualifier' },
      asyncInvoke: { type: 'boolean', title: 'Async invoke?', default: false },
      payloadFormat: { type: 'string', title: 'Payload format', enum: ['message', 'v2'], default: 'message' },
      maxConcurrency: { type: 'integer', title: 'Max concurrency', minimum: 1, maximum: 1000, default: 4 },
    },
    allOf: [
      {
        if: { properties: { asyncInvoke: { const: false } } },
        then: {
          properties: {
            invocationType: {
              type: 'string',
              title: 'Invocation type',
              enum: ['RequestResponse', 'Event', 'DryRun'],
              default: 'RequestResponse',
            },
          },
        },
      },
    ],
    dependencies: {
      payloadFormat: {
        oneOf: [
          { properties: { payloadFormat: { const: 'message' } } },
          {
            properties: {
              payloadFormat: { const: 'v2' },
              batchMaxRecords: { type: 'integer', title: 'Batch max records', minimum: 1, default: 10 },
            },
          },
        ],
      },
    },
    $defs: {
      connection: {
        type: 'object',
        title: 'AWS connection',
        properties: {
          region: { type: 'string', title: 'Region' },
          accessKey: { type: 'string', title: 'Access key' },
          secretKey: { type: 'string', title: 'Secret key', writeOnly: true },
          sessionToken: { type: 'string', title: 'Session token', writeOnly: true },
          endpointUrl: { type: 'string', title: 'Endpoint URL' },
        },
      },
    },
  },
  uiSchema: {
    'ui:order': ['functionName', 'qualifier', 'asyncInvoke', 'invocationType', '*'],
    functionName: { 'ui:widget': 'lambdaFunction' },
    qualifier: { 'ui:widget': 'lambdaQualifier' },
    connection: {
      secretKey: { 'ui:widget': 'password' },
      sessionToken: { 'ui:widget': 'password' },
    },
  },
};

export const descriptors: ComponentDescriptor[] = [feederDescriptor, lambdaDescriptor, displayDescriptor];

export const demoFlow: FlowDocument = {
  id: 'lambda-sync-demo',
  name: 'Lambda sync demo',
  description: 'Feeder -> LambdaConnector -> Display',
  rev: '3',
  nodes: [
    { id: 'feeder1', type: 'feeder', name: 'Feeder', position: { x: 80, y: 120 }, config: {} },
    {
      id: 'lambda1',
      type: 'lambda',
      name: 'LambdaConnector',
      position: { x: 320, y: 120 },
      config: { functionName: 'hello', connection: { region: 'us-east-1' } },
      secretsSet: ['/connection/secretKey'],
    },
    { id: 'display1', type: 'display', name: 'Display', position: { x: 560, y: 120 }, config: {} },
  ],
  edges: [
    { id: 'route1', from: { node: 'feeder1', port: 'out' }, to: { node: 'lambda1', port: 'in' } },
    { id: 'route2', from: { node: 'lambda1', port: 'out' }, to: { node: 'display1', port: 'in' } },
  ],
};
